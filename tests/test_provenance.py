"""Where a run's code came from: the code digest of a step and the git state of a checkout."""

from __future__ import annotations

import shutil
from pathlib import Path

from grocery.config import PROJECT_DIR
from grocery.names import PREPARE, TRAIN
from grocery.provenance import GitState, code_digest, code_files, git_state
from tests.conftest import git


def checkout(folder: Path) -> Path:
    """A small project: two step scripts, the shared code and a file no step depends on."""
    for name in ("MLproject", "catalog.yaml", "grocery/config.py", f"steps/{PREPARE}.py",
                 f"steps/{TRAIN}.py"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT_DIR / name, folder / name)
    (folder / "README.md").write_text("not code\n")
    return folder


def test_code_files_are_the_step_and_the_shared_code(tmp_path):
    root = checkout(tmp_path)
    names = [path.relative_to(root).as_posix() for path in code_files(TRAIN, root)]
    assert names == ["MLproject", "catalog.yaml", "grocery/config.py", f"steps/{TRAIN}.py"]


def test_code_digest_follows_the_steps_code_only(tmp_path):
    root = checkout(tmp_path)
    train, prepare = code_digest(TRAIN, root), code_digest(PREPARE, root)
    assert train != prepare
    (root / "README.md").write_text("edited\n")
    (root / "steps" / f"{PREPARE}.py").write_text("# edited\n")
    code_digest.cache_clear()  # taken once per process; here the files changed
    assert code_digest(TRAIN, root) == train
    assert code_digest(PREPARE, root) != prepare
    (root / "grocery" / "config.py").write_text("# edited\n")
    code_digest.cache_clear()
    assert code_digest(TRAIN, root) != train


def test_git_state_of_a_checkout(tmp_path):
    root = checkout(tmp_path / "project")
    assert git_state(root) == GitState(None, None, None)  # not a git checkout
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "-c", "user.name=T", "-c", "user.email=t@example.invalid", "commit", "-qm", "one")
    git_state.cache_clear()
    state = git_state(root)
    assert state.commit == git(root, "rev-parse", "HEAD")
    assert state.dirty is False
    assert state.repository == str(root)  # no origin: the checkout itself
    (root / "README.md").write_text("edited\n")
    git_state.cache_clear()
    assert git_state(root).dirty is True
