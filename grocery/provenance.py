"""Where a run's code came from: a digest of the code a step runs, and the git state."""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from grocery.config import PROJECT_DIR

# Everything a step's behaviour depends on besides its parameters and input data.
SHARED_CODE = ("MLproject", "requirements.txt", "python_env.yaml", "catalog.yaml", "grocery/*.py")


def code_files(step: str, root: Path = PROJECT_DIR) -> list[Path]:
    """The files whose content decides what ``step`` computes."""
    files = {root / "steps" / f"{step}.py"}
    for pattern in SHARED_CODE:
        files.update(root.glob(pattern))
    return sorted(path for path in files if path.is_file())


@cache
def code_digest(step: str, root: Path = PROJECT_DIR) -> str:
    """A digest of ``step``'s code as it is on disk (uncommitted edits included)."""
    hasher = hashlib.sha256()
    for path in code_files(step, root):
        hasher.update(path.relative_to(root).as_posix().encode() + b"\0")
        hasher.update(path.read_bytes() + b"\0")
    return hasher.hexdigest()[:16]


@dataclass(frozen=True)
class GitState:
    """The commit of the project's checkout, whether it has uncommitted edits, and its origin."""

    commit: str | None
    dirty: bool | None
    repository: str | None


def _git(root: Path, *args: str) -> str | None:
    """git's output in ``root``, or None when git is missing, fails or hangs."""
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@cache
def git_state(root: Path = PROJECT_DIR) -> GitState:
    """The git state of ``root``; all None when it is not a git checkout."""
    commit = _git(root, "rev-parse", "HEAD")
    if commit is None:
        return GitState(None, None, None)
    status = _git(root, "status", "--porcelain")
    origin = _git(root, "remote", "get-url", "origin") or _git(root, "rev-parse", "--show-toplevel")
    return GitState(commit=commit, dirty=bool(status), repository=origin)
