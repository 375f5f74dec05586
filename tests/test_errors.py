"""grocery.errors: a user's mistake is one line and exit 2, a lost server exit 3, a bug a
traceback."""

from __future__ import annotations

import pytest
import requests
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST, ErrorCode

from grocery.errors import UserError, exit_on_user_error, first_line, lost_connection, refusal


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


def test_our_own_bug_keeps_its_traceback_without_credentials(capsys):
    assert lost_connection(KeyError("x")) is None
    with pytest.raises(SystemExit) as stop:
        exit_on_user_error(_raise(KeyError("no run at http://alice:s3cr3t@127.0.0.1:1/x")))
    assert stop.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert "KeyError: 'no run at http://127.0.0.1:1/x'" in err and "s3cr3t" not in err


def test_a_user_error_never_carries_a_credential():
    error = UserError("https://bob:pw1234@h/sales.csv?X-Amz-Signature=s3cr3t-sig: no such file")
    assert str(error) == "https://h/sales.csv?X-Amz-Signature=***: no such file"


def _refused(code: str, endpoint: str) -> MlflowException:
    """An error as MLflow's REST client raises it for a non-JSON 403 or 401 answer."""
    text = (f"API request to endpoint /api/2.0/mlflow/{endpoint} failed with error code "
            f"{403 if code == 'PERMISSION_DENIED' else 401} != 200. Response body: 'Denied'")
    return MlflowException(text, error_code=ErrorCode.Value(code))


def test_a_refusal_is_one_line_naming_what_was_refused(capsys, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://bob:pw1234@127.0.0.1:1")
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "bob")
    wrapped = RuntimeError("register failed")
    wrapped.__cause__ = _refused("PERMISSION_DENIED", "registered-models/alias")
    assert lost_connection(wrapped) is None
    with pytest.raises(SystemExit) as stop:
        exit_on_user_error(_raise(wrapped))
    assert stop.value.code == 2
    assert capsys.readouterr().err == (
        "error: the tracking server at http://127.0.0.1:1 refused to let bob move an alias "
        "(registered-models/alias: permission denied); ask its admin for EDIT on the registered "
        "model (docs/team-server.md)\n")
    run = refusal(_refused("PERMISSION_DENIED", "runs/create"))
    assert "bob create a run (runs/create" in str(run) and "EDIT on the experiment" in str(run)
    login = refusal(_refused("UNAUTHENTICATED", "experiments/get-by-name"))
    assert "did not accept the credentials for experiments/get-by-name" in str(login)
    assert refusal(MlflowException("no such run", error_code=RESOURCE_DOES_NOT_EXIST)) is None


def test_first_line_is_one_scrubbed_line_or_the_errors_type():
    error = ConnectionError("cannot reach http://alice:s3cr3t@host:5000/api\nretried 5 times")
    line = first_line(error)
    assert line.startswith("cannot reach http://") and "s3cr3t" not in line and "\n" not in line
    assert first_line(ValueError("")) == "ValueError"
