"""grocery.errors: a user's mistake is one line and exit 2, a lost server exit 3, a bug a
traceback."""

from __future__ import annotations

import pytest
import requests

from grocery.errors import UserError, exit_on_user_error, lost_connection


def _raise(error: BaseException):
    def main() -> None:
        raise error
    return main


def test_a_user_error_is_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as stop:
        exit_on_user_error(_raise(UserError("no column 'demand'")))
    assert stop.value.code == 2
    assert capsys.readouterr().err == "error: no column 'demand'\n"


def test_a_lost_server_behind_a_wrapped_error_is_exit_3(capsys, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://alice:pw@127.0.0.1:1")
    cause = requests.exceptions.ConnectionError("refused")
    wrapped = RuntimeError("API request failed")
    wrapped.__cause__ = cause
    assert lost_connection(wrapped) is cause
    with pytest.raises(SystemExit) as stop:
        exit_on_user_error(_raise(wrapped))
    assert stop.value.code == 3
    err = capsys.readouterr().err
    assert err.startswith("error: lost the tracking server at http://127.0.0.1:1 (ConnectionError)")
    assert "pw" not in err


def test_our_own_bug_keeps_its_traceback():
    assert lost_connection(KeyError("x")) is None
    with pytest.raises(KeyError):
        exit_on_user_error(_raise(KeyError("x")))
