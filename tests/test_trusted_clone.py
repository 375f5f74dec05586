"""grocery.trusted_clone: which repositories may be cloned, a full commit id, and git that never
prompts, never hangs and never leaves a traceback; all against throwaway repositories."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from grocery.errors import UserError
from grocery.trusted_clone import (
    checkout,
    checkout_locations,
    configured_locations,
    git_environment,
    repository_key,
    trusted_source,
)
from tests.conftest import git


@pytest.fixture
def repository(tmp_path: Path) -> tuple[Path, str, str]:
    """A git repository with two commits and an uncommitted edit; both commits' ids."""
    repo = tmp_path / "source"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commits = []
    for text in ("first", "second"):
        (repo / "file.txt").write_text(text)
        git(repo, "add", "file.txt")
        git(repo, "-c", "user.name=Test", "-c", "user.email=test@example.invalid",
            "commit", "-q", "-m", text)
        commits.append(git(repo, "rev-parse", "HEAD"))
    (repo / "file.txt").write_text("edited")
    return repo, commits[0], commits[1]


@pytest.mark.parametrize(("one", "other"), [
    ("https://github.com/shop/grocery.git", "git@github.com:shop/grocery"),
    ("https://alice:s3cr3t@GitHub.com/shop/grocery/", "ssh://git@github.com:22/shop/grocery.git"),
    ("/srv/git/grocery", "file:///srv/git/grocery/"),
    ("/srv/git/../git/grocery", "/srv/git/grocery"),
])
def test_one_repository_under_different_spellings_has_one_key(one, other):
    assert repository_key(one) == repository_key(other)


@pytest.mark.parametrize(("one", "other"), [
    ("https://github.com/shop/grocery", "https://github.com/evil/grocery"),
    ("https://github.com/shop/grocery", "https://github.com.evil.example/shop/grocery"),
    ("/srv/git/grocery", "/srv/git/grocery.git"),  # two folders
    ("/srv/git/grocery", "https://srv/git/grocery"),
])
def test_different_repositories_have_different_keys(one, other):
    assert repository_key(one) != repository_key(other)


def test_configured_locations_are_comma_separated():
    assert configured_locations("") == []
    assert configured_locations(" https://a/x.git, /srv/my repo ,,") == [
        "https://a/x.git", "/srv/my repo"]


def test_a_trusted_source_is_the_matching_allowed_location_at_a_full_commit():
    allowed = ["/elsewhere", "https://alice:tok@github.com/shop/grocery.git"]
    assert trusted_source("git@github.com:shop/grocery", "a" * 40, allowed) == allowed[1]


@pytest.mark.parametrize("commit", ["abc1234", "A" * 40, "a" * 39, "a" * 41, "--upload-pack=x",
                                    "HEAD", "main", ""])
def test_anything_but_a_full_commit_id_is_refused(commit):
    with pytest.raises(UserError, match="is not a full 40-character git commit id"):
        trusted_source("/srv/git/grocery", commit, ["/srv/git/grocery"])


def test_a_repository_not_allowed_is_refused_without_its_credentials():
    with pytest.raises(UserError) as error:
        trusted_source("https://bob:hunter2@evil.example/grocery.git", "a" * 40,
                       ["https://github.com/shop/grocery.git"])
    message = str(error.value)
    assert message.startswith("the recorded repository 'https://evil.example/grocery.git' is not")
    assert "-P allowed_repositories=" in message and "hunter2" not in message


def test_checkout_locations_are_the_folder_its_top_level_and_every_remote(repository):
    repo, _, _ = repository
    git(repo, "remote", "add", "origin", "https://github.com/shop/grocery.git")
    git(repo, "remote", "add", "mirror", "git@git.example:shop/grocery")
    (repo / "sub").mkdir()
    locations = checkout_locations(repo / "sub")
    assert str(repo / "sub") in locations and str(repo.resolve()) in locations
    assert {"https://github.com/shop/grocery.git", "git@git.example:shop/grocery"} <= \
        set(locations)
    assert checkout_locations(repo.parent) == [str(repo.parent)]  # not a git checkout


def test_checkout_is_a_temporary_clone_at_the_commit(repository):
    repo, first, second = repository
    with checkout(str(repo), first) as folder:
        assert (folder / "file.txt").read_text() == "first"
        assert git(folder, "rev-parse", "HEAD") == first
        assert not str(folder).startswith(str(repo))
    assert not folder.exists()
    assert git(repo, "rev-parse", "HEAD") == second
    assert (repo / "file.txt").read_text() == "edited"
    assert git(repo, "status", "--porcelain") == "M file.txt"
    assert git(repo, "branch", "--list", "--format=%(refname)") == "refs/heads/main"


def one_line_error(repository: str, commit: str, timeout: float = 30) -> str:
    """The message of the ``UserError`` checking out ``commit`` from ``repository`` raises."""
    with pytest.raises(UserError) as error, checkout(repository, commit, timeout):
        pass
    assert "\n" not in str(error.value)
    return str(error.value)


def test_checkout_of_an_unknown_commit_is_a_user_error(repository):
    repo, _, _ = repository
    assert one_line_error(str(repo), "0" * 40).startswith(
        f"cannot check out {'0' * 40} from {repo}: ")


def test_an_option_posing_as_a_repository_is_only_a_name(repository, tmp_path):
    _, first, _ = repository
    marker = tmp_path / "marker"
    message = one_line_error(f"--upload-pack=touch {marker}", first)
    assert message.startswith(f"cannot check out {first} from --upload-pack=")
    assert not marker.exists()


def test_an_unreachable_repository_is_one_line(tmp_path):
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert "does not exist" in one_line_error(str(tmp_path / "missing"), "a" * 40)
    assert one_line_error(f"git://127.0.0.1:{port}/grocery.git", "a" * 40) == (
        f"cannot check out {'a' * 40} from git://127.0.0.1:{port}/grocery.git: fatal: unable "
        "to connect to 127.0.0.1:")


def test_a_server_that_never_answers_is_stopped_after_the_timeout():
    with socket.socket() as server:  # accepts connections (the kernel does) but never replies
        server.bind(("127.0.0.1", 0))
        server.listen()
        url = f"git://127.0.0.1:{server.getsockname()[1]}/grocery.git"
        assert one_line_error(url, "a" * 40, timeout=1) == (
            f"cannot check out {'a' * 40} from {url}: git did not finish within 1 s and was "
            "stopped; is the repository reachable?")


class AskForPassword(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="git"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_server_asking_for_a_password_gets_no_prompt():
    server = HTTPServer(("127.0.0.1", 0), AskForPassword)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = f"http://127.0.0.1:{server.server_port}"
    try:
        url = f"{host}/grocery.git"
        message = one_line_error(url, "a" * 40, timeout=20)
    finally:
        server.shutdown()
        server.server_close()
    assert message == (f"cannot check out {'a' * 40} from {url}: fatal: could not read "
                       f"Username for '{host}': "
                       "terminal prompts disabled")


def test_git_missing_from_path_is_one_line(repository, monkeypatch, tmp_path):
    repo, first, _ = repository
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    with pytest.raises(UserError, match="^git is not installed or not on PATH; install git"):
        checkout_locations(repo)
    assert one_line_error(str(repo), first) == (
        f"cannot check out {first} from {repo}: git is not installed or not on PATH; install "
        "git to rebuild a version from its commit")


def test_git_runs_without_prompts_and_keeps_the_users_ssh_command(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("GIT_SSH_COMMAND", raising=False)
    monkeypatch.delenv("GIT_SSH", raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    env = git_environment()
    assert (env["GIT_TERMINAL_PROMPT"], env["GIT_ASKPASS"], env["SSH_ASKPASS"]) == ("0", "", "")
    assert env["GIT_SSH_COMMAND"] == "ssh -o BatchMode=yes"
    git(tmp_path, "config", "--global", "core.sshCommand", "ssh -i key")
    assert git_environment()["GIT_SSH_COMMAND"] == "ssh -i key -o BatchMode=yes"
    monkeypatch.setenv("GIT_SSH_COMMAND", "ssh -p 2222")
    assert git_environment()["GIT_SSH_COMMAND"] == "ssh -p 2222 -o BatchMode=yes"
