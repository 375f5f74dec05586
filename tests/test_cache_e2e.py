"""The step cache of `main`: what reruns and what is reused, read back from the store."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

from grocery.names import STEPS
from tests.conftest import SHORT, Store, copy_project, new_store, succeeded

PRODUCT = "cheese"


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> tuple[Store, Path]:
    store = new_store(tmp_path_factory.mktemp("cache-store"))
    project = copy_project(tmp_path_factory.mktemp("cache-project"))
    return store, project


def step_runs(store: Store) -> list:
    experiment = store.client.get_experiment_by_name("Cheese_Models")
    if experiment is None:
        return []
    return store.client.search_runs(
        [experiment.experiment_id],
        filter_string="tags.`grocery.step` != 'pipeline'",
    )


def pipeline(store: Store, project: Path, **params) -> dict[str, bool]:
    """Run main; return, per step, whether the newest parent says it was reused."""
    before = {r.info.run_id for r in step_runs(store)}
    succeeded(store.mlflow_run(project=project, product=PRODUCT, **{**SHORT, **params}))
    experiment = store.client.get_experiment_by_name("Cheese_Models")
    parent = store.client.search_runs(
        [experiment.experiment_id], filter_string="tags.`grocery.step` = 'pipeline'",
        order_by=["attributes.start_time DESC"], max_results=1)[0]
    new = {r.info.run_id for r in step_runs(store)} - before
    reused = {step: parent.data.tags[f"step.{step}.cached"] == "true" for step in STEPS}
    # The parent's tags and the store agree: a step that ran made exactly one new run.
    ran = [s for s in STEPS if not reused[s]]
    assert len(new) == len(ran)
    assert {parent.data.tags[f"step.{s}.run_id"] for s in ran} == new
    assert parent.data.tags["model_version"]
    return reused


ALL_REUSED = {"prepare": True, "train": True, "register": True}
NONE_REUSED = {"prepare": False, "train": False, "register": False}


def test_cache_reruns_exactly_what_changed(setup):
    store, project = setup
    assert pipeline(store, project) == NONE_REUSED
    assert pipeline(store, project) == ALL_REUSED

    # A train parameter: train and register only. (That a default spelled out, or any prepare
    # parameter, changes the key as it should is tests/test_cache.py's and test_parameters.py's.)
    assert pipeline(store, project, alpha=0.5) == {**NONE_REUSED, "prepare": True}

    # Two changes in one rerun. prepare's data is gone: a cached run whose artifacts are gone
    # is not a hit, so prepare reruns; it makes the same data, so train (keyed by the data's
    # digest) is reused. An uncommitted edit to register's script: register reruns, from a
    # work tree git calls dirty. (That a step which reruns makes the steps after it rerun is
    # the train parameter's case above; each rule of the key is tests/test_cache.py's.)
    prepare = max((r for r in step_runs(store) if r.data.tags["grocery.step"] == "prepare"),
                  key=lambda r: r.info.start_time)
    artifacts = Path(urlparse(prepare.info.artifact_uri).path)
    assert store.folder in artifacts.parents  # the store keeps its artifacts beside its database
    shutil.rmtree(artifacts / "data")
    with (project / "steps" / "register.py").open("a") as script:
        script.write("\n# an uncommitted edit\n")
    assert pipeline(store, project) == {"prepare": False, "train": True, "register": False}
    newest_register = max((r for r in step_runs(store)
                           if r.data.tags["grocery.step"] == "register"),
                          key=lambda r: r.info.start_time)
    assert newest_register.data.tags["grocery.git.dirty"] == "true"

    # use_cache=false reruns everything.
    assert pipeline(store, project, use_cache="false") == NONE_REUSED
