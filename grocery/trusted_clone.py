"""A temporary clone of the code a model version names, only from a repository this checkout
trusts: its own folder, one of its git remotes, or one the user lists.

The repository and the commit come from tags that anyone who may write to the tracking server
can set, and the clone's MLproject then runs with the user's credentials in its environment. So
the repository must be one of those, the commit a full id, and git never waits for a password,
a passphrase or a server that does not answer.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from grocery.config import PROJECT_DIR
from grocery.errors import UserError
from grocery.uris import public_uri

GIT_TIMEOUT = 300  # seconds one git command may take before it is stopped
FULL_COMMIT = re.compile(r"[0-9a-f]{40}")
# git's short form of an ssh URL, [user@]host:path (a colon before any slash).
SCP_LIKE = re.compile(r"(?:[^@/]+@)?([^:/]+):(?!//)(.+)")


def repository_key(location: str) -> str:
    """What names a repository: a URL's host and path (no user, port or scheme, no trailing
    ``/`` or ``.git``; an ssh short form alike), or a local folder's absolute path."""
    text = location.strip()
    parts = urlsplit(text)
    if parts.scheme and parts.netloc and parts.scheme != "file":
        host, path = parts.hostname or "", parts.path
    elif parts.scheme != "file" and (scp := SCP_LIKE.fullmatch(text)):
        host, path = scp.group(1), scp.group(2)
    else:
        local = parts.path if parts.scheme == "file" else text
        try:
            return str(Path(local).expanduser().resolve())
        except (OSError, ValueError):
            return text
    return f"{host.lower()}/{path.strip('/').removesuffix('.git').strip('/')}"


def configured_locations(text: str) -> list[str]:
    """The repositories a user listed, separated by commas."""
    return [item.strip() for item in text.split(",") if item.strip()]


def configured_ssh_command() -> str:
    """The user's ``core.sshCommand`` (which ``GIT_SSH_COMMAND`` would override), or ``""``."""
    try:
        done = subprocess.run(["git", "config", "--get", "core.sshCommand"], text=True,
                              capture_output=True, stdin=subprocess.DEVNULL, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip()


def git_environment() -> dict[str, str]:
    """This process's environment with every way git could ask for a password turned off:
    no terminal prompt, no askpass helper, the user's own ssh command in batch mode."""
    env = dict(os.environ)
    env.update(GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="", SSH_ASKPASS="")
    if env.get("GIT_SSH_COMMAND") or not env.get("GIT_SSH"):  # GIT_SSH takes no options
        ssh = env.get("GIT_SSH_COMMAND") or configured_ssh_command() or "ssh"
        env["GIT_SSH_COMMAND"] = f"{ssh} -o BatchMode=yes"
    return env


def run_git(args: list[str], timeout: float = GIT_TIMEOUT) -> subprocess.CompletedProcess:
    """git with ``args``, captured, with no terminal to prompt on; after ``timeout`` seconds
    git and everything it started (ssh, a remote helper) are killed."""
    try:
        process = subprocess.Popen(["git", *args], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env=git_environment(), start_new_session=True)
    except FileNotFoundError:
        raise UserError("git is not installed or not on PATH; install git to rebuild a "
                        "version from its commit") from None
    with process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise UserError(f"git did not finish within {timeout:g} s and was stopped; is the "
                            "repository reachable?") from None
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def checkout_locations(root: Path = PROJECT_DIR) -> list[str]:
    """This checkout's folder, its git top level and the URLs of its remotes."""
    locations = [str(root)]
    top = run_git(["-C", str(root), "rev-parse", "--show-toplevel"])
    if top.returncode == 0:
        locations.append(top.stdout.strip())
    remotes = run_git(["-C", str(root), "remote", "-v"])
    if remotes.returncode == 0:
        locations += [words[1] for line in remotes.stdout.splitlines()
                      if len(words := line.split()) >= 2]
    return locations


def trusted_source(repository: str, commit: str, allowed: list[str]) -> str:
    """The location in ``allowed`` that names ``repository`` (the one to clone), once the
    commit is a full id; else a ``UserError``."""
    if not FULL_COMMIT.fullmatch(commit):
        raise UserError(f"the recorded commit {commit!r} is not a full 40-character git commit "
                        "id; only a full id names one commit for sure")
    key = repository_key(repository)
    match = next((location for location in allowed if repository_key(location) == key), None)
    if match is None:
        raise UserError(f"the recorded repository {public_uri(repository)!r} is not this "
                        "checkout's folder or one of its git remotes; if you trust it, pass "
                        "-P allowed_repositories=<its URL>")
    return match


def _complaint(text: str, repository: str) -> str:
    """git's last ``fatal:`` line (else its last line), with the repository as it may be
    printed."""
    lines = text.strip().splitlines() or ["git failed"]
    line = next((x for x in reversed(lines) if x.startswith("fatal:")), lines[-1])
    return line.replace(repository, public_uri(repository))


@contextmanager
def checkout(repository: str, commit: str, timeout: float = GIT_TIMEOUT) -> Iterator[Path]:
    """A temporary clone of ``repository`` at ``commit``; the source repository is only read."""
    folder = Path(tempfile.mkdtemp(prefix="grocery-reproduce-"))
    failure = f"cannot check out {commit} from {public_uri(repository)}"
    try:
        for args in (["clone", "--quiet", "--no-checkout", "--", repository, str(folder)],
                     ["-C", str(folder), "checkout", "--quiet", commit, "--"]):
            try:
                done = run_git(args, timeout)
            except UserError as error:
                raise UserError(f"{failure}: {error}") from None
            if done.returncode != 0:
                raise UserError(f"{failure}: {_complaint(done.stderr, repository)}")
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
