"""grocery.reproduce: parameters as they were passed, what a version must record to be rebuilt,
which repository it is cloned from, and the comparison of a rebuild with the original."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
from mlflow.entities import Metric, Param, Run, RunData, RunInfo, RunTag
from mlflow.entities.model_registry import ModelVersion

from grocery.config import PROJECT_DIR
from grocery.errors import UserError
from grocery.lineage import Chain, GitSource, RunLink
from grocery.names import TAG_GIT_DIRTY, TAG_HYPERPARAMETERS, TAG_SERIES_MODEL
from grocery.reproduce import (
    METRICS,
    check_reproducible,
    compare,
    comparison_table,
    logged_value,
    mismatch_message,
    source_to_clone,
    train_parameters,
)

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


def rebuildable(params: dict[str, str], hyperparameters: str, repository: str,
                commit: str = "c" * 40) -> Chain:
    """A chain with both runs found, the train run's ``params`` and hyperparameters tag."""
    info = RunInfo(run_id="t" * 32, experiment_id="1", user_id="", status="FINISHED",
                   start_time=0, end_time=1, lifecycle_stage="active")
    train = Run(info, RunData(params=[Param(k, v) for k, v in params.items()],
                              tags=[RunTag(TAG_HYPERPARAMETERS, hyperparameters)]))
    return Chain(version=ModelVersion("grocery-forecasting-milk", "4", 0),
                 train=RunLink(info.run_id, train), prepare=RunLink("p" * 32, Run(info, RunData())),
                 parent=None, git=GitSource(repository, commit, "false"), data_digest="d1")


@pytest.mark.parametrize(("params", "hyperparameters"), [
    ({}, "{}"), ({"model": "ridge"}, "not json"), ({"model": "ridge"}, "[1, 2]"),
])
def test_a_version_missing_its_train_parameters_is_one_line(params, hyperparameters):
    broken = rebuildable(params, hyperparameters, str(PROJECT_DIR))
    with pytest.raises(UserError, match="^version grocery-forecasting-milk/4's runs do not "
                                        "record readable parameters") as error:
        check_reproducible(broken)
    assert "\n" not in str(error.value)
    check_reproducible(rebuildable({"model": "ridge"}, '{"alpha": 1}', str(PROJECT_DIR)))


def test_only_this_checkouts_repository_or_a_listed_one_is_cloned():
    ours = rebuildable({"model": "ridge"}, "{}", str(PROJECT_DIR))
    assert Path(source_to_clone(ours, "")).resolve() == PROJECT_DIR.resolve()
    theirs = rebuildable({"model": "ridge"}, "{}", "https://evil.example/grocery.git")
    with pytest.raises(UserError, match="^version grocery-forecasting-milk/4: the recorded "
                                        "repository 'https://evil.example/grocery.git' is not"):
        source_to_clone(theirs, "")
    assert source_to_clone(theirs, "/x, https://evil.example/grocery") == \
        "https://evil.example/grocery"


def test_a_rebuild_passes_the_series_model_only_where_the_train_run_recorded_one():
    def train_run(tags: dict[str, str]) -> Chain:
        info = RunInfo(run_id="t" * 32, experiment_id="1", user_id="", status="FINISHED",
                       start_time=0, end_time=1, lifecycle_stage="active")
        data = RunData(params=[Param("model", "ridge")],
                       tags=[RunTag(k, v) for k, v in tags.items()])
        return replace(chain(), train=RunLink(info.run_id, Run(info, data)))

    hyper = {TAG_HYPERPARAMETERS: '{"alpha": 0.5}'}
    assert train_parameters(train_run({**hyper, TAG_SERIES_MODEL: "per_series"})) == {
        "model": "ridge", "series_model": "per_series", "alpha": "0.5"}
    # An older run's commit has no such parameter: passing one would be a hyperparameter.
    assert train_parameters(train_run(hyper)) == {"model": "ridge", "alpha": "0.5"}
