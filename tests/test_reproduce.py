"""grocery.reproduce: parameters as they were passed, a checkout that leaves the source alone,
and the comparison of a rebuild with the original."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from mlflow.entities import Metric, Run, RunData, RunInfo
from mlflow.entities.model_registry import ModelVersion

from grocery.errors import UserError
from grocery.lineage import Chain, GitSource, RunLink
from grocery.names import TAG_GIT_DIRTY
from grocery.reproduce import (
    METRICS,
    checkout,
    compare,
    comparison_table,
    logged_value,
    mismatch_message,
)
from tests.conftest import git

ORIGINAL = {"mae": 1.5, "mse": 4.0, "rmse": 2.0, "r2": 0.75}


def chain(dirty: str = "false", metrics: dict[str, float] = ORIGINAL) -> Chain:
    """A chain whose train run scored ``metrics``, built without a store."""
    info = RunInfo(run_id="t" * 32, experiment_id="1", user_id="", status="FINISHED",
                   start_time=0, end_time=1, lifecycle_stage="active")
    run = Run(info, RunData(metrics=[Metric(k, v, 0, 0) for k, v in metrics.items()]))
    return Chain(version=ModelVersion("grocery-forecasting-milk", "4", 0),
                 train=RunLink(info.run_id, run), prepare=RunLink("unknown"), parent=None,
                 git=GitSource("/src", "c" * 40, dirty), data_digest="d1")


@pytest.mark.parametrize(("logged", "passed"), [
    ("''", ""), ("120", "120"), ("'2024-01-31'", "2024-01-31"),
    ("'/data/my sales.csv'", "/data/my sales.csv"), ("", ""), ("a b", "a b"),
])
def test_logged_value_undoes_mlflow_runs_shell_quoting(logged, passed):
    assert logged_value(logged) == passed


def test_a_faithful_rebuild_matches_on_every_row():
    rows = compare(chain(), "d1", dict(ORIGINAL))
    assert [row[0] for row in rows] == ["data digest", *METRICS]
    assert all(row[-1] for row in rows)
    table = comparison_table(rows).splitlines()
    assert table[0].split() == ["what", "original", "rebuilt", "equal"]
    assert all(line.endswith("yes") for line in table[2:])


def test_a_different_digest_or_metric_is_a_mismatch():
    rebuilt = {**ORIGINAL, "rmse": 2.0 + 1e-6}
    rebuilt.pop("r2")
    rows = {row[0]: row for row in compare(chain(), "d2", rebuilt)}
    assert rows["data digest"][1:] == ("d1", "d2", False)
    assert not rows["rmse"][-1] and rows["mae"][-1]
    assert rows["r2"][2] == repr(math.nan) and not rows["r2"][-1]  # not rebuilt at all
    assert compare(chain(), "d1", {**ORIGINAL, "mae": 1.5 + 1e-12})[1][-1]  # within tolerance
    lines = comparison_table(list(rows.values())).splitlines()
    assert next(x for x in lines if x.startswith("data digest ")).endswith("NO")


def test_the_mismatch_message_blames_a_dirty_tree():
    assert mismatch_message(chain()) == "grocery-forecasting-milk/4 does not reproduce"
    assert mismatch_message(chain(dirty="true")) == (
        f"grocery-forecasting-milk/4 does not reproduce; the version was trained from a dirty "
        f"work tree ({TAG_GIT_DIRTY}=true), so commit {'c' * 40} lacks its edits")


@pytest.fixture
def repository(tmp_path: Path) -> tuple[Path, str, str]:
    """A git repository with two commits and an uncommitted edit; the first commit's id."""
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


def test_checkout_of_an_unknown_commit_is_a_user_error(repository):
    repo, _, _ = repository
    with pytest.raises(UserError, match=f"cannot check out {'0' * 40} from {repo}: "), \
            checkout(str(repo), "0" * 40):
        pass
