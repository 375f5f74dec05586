"""The orchestration against a real SQLite store, without starting a step: every step is a cache
hit, so the parent runs, the launcher's tags, the fan-out and the summary are checked in-process."""

from __future__ import annotations

import subprocess
import sys

import pytest
from mlflow.tracking import MlflowClient

from grocery.cache import cache_key
from grocery.config import Product, load_config
from grocery.experiments import Route
from grocery.liveness import process_identity
from grocery.names import (
    PIPELINE,
    PREPARE,
    REGISTER,
    STEPS,
    TAG_ALIAS,
    TAG_CACHE_OUTPUT,
    TAG_ERROR,
    TAG_EXPERIMENT_CHOSEN,
    TAG_PARENT_RUN,
    TAG_PROCESS,
    TAG_PRODUCT,
    TAG_RUN_NAME,
    TAG_STEP,
    TRAIN,
    pipeline_tag,
    run_name,
    step_cached_tag,
    step_run_tag,
)
from grocery.orchestration import (
    FAILED,
    FINISHED,
    LOST,
    ProductResult,
    adopted_parent,
    end_dead_runs,
    overall_status,
    run_products,
    summary_table,
)
from grocery.parameters import PRODUCT_PARAM, PipelineSettings
from grocery.tracking import DEFAULT_EXPERIMENT_ID, ensure_experiment
from tests.test_cache import keyed, prepare_run, register_run, train_run

CATALOG = load_config()
FIRST, SECOND = list(CATALOG.products.values())[:2]
SETTINGS = PipelineSettings(
    prepare_params={"rows": "100", "end_date": "2023-10-03", "seed": "1",
                    "validation_fraction": "0.2", "split": "time"},
    train_params={"model": "ridge"}, train_resolved={"model": "ridge", "alpha": 1.0},
    env_manager="local", use_cache=True)


def cache_pipeline(client: MlflowClient, product: Product, rmse: float,
                   register_tags: dict[str, str]) -> dict[str, str]:
    """Finished prepare, train and register runs keyed as `main` would look them up."""
    experiment_id = ensure_experiment(client, CATALOG, product)
    digest = f"data-of-{product.name}"
    params = {PRODUCT_PARAM: product.name, **SETTINGS.prepare_params}
    prepare = keyed(client, PREPARE, prepare_run(client, experiment_id, digest),
                       cache_key(PREPARE, params, SETTINGS.data_digest))
    # train is keyed by what prepare produced: its data and forecast task.
    train_key = cache_key(TRAIN, SETTINGS.train_resolved, prepare.data.tags[TAG_CACHE_OUTPUT])
    train = keyed(client, TRAIN, train_run(client, experiment_id, rmse), train_key)
    register = keyed(client, REGISTER, register_run(client, experiment_id, train.info.run_id,
                                                       product, register_tags),
                        cache_key(REGISTER, {}, train_key))
    return {PREPARE: prepare.info.run_id, TRAIN: train.info.run_id,
            REGISTER: register.info.run_id, "experiment": experiment_id}


def route(experiment_id: str, product: Product) -> Route:
    """The route to an existing experiment of ``product``'s (so the step cache is asked)."""
    return Route(experiment_id, product.experiment)


@pytest.fixture(scope="module")
def client(tracking_store) -> MlflowClient:
    return tracking_store.client


@pytest.fixture(scope="module")
def cached(client) -> dict[str, dict[str, str]]:
    return {FIRST.name: cache_pipeline(client, FIRST, 1.25, {TAG_ALIAS: "champion"}),
            SECOND.name: cache_pipeline(client, SECOND, 2.5, {TAG_ALIAS: "challenger"})}


def test_products_fan_out_under_new_parents_named_on_the_launcher(client, cached, capsys):
    launcher = client.create_run(DEFAULT_EXPERIMENT_ID)
    routes = [(p, route(cached[p.name]["experiment"], p)) for p in (FIRST, SECOND)]
    results = run_products(routes, SETTINGS, 2, launcher)

    assert [(r.product, r.status) for r in results] == [(FIRST, FINISHED), (SECOND, FINISHED)]
    assert [r.metrics["rmse"] for r in results] == [1.25, 2.5]
    assert [r.alias for r in results] == ["champion", "challenger"]
    launcher_tags = client.get_run(launcher.info.run_id).data.tags
    for result in results:
        runs = cached[result.product.name]
        parent = client.get_run(result.parent_run_id)
        tags = parent.data.tags
        assert launcher_tags[pipeline_tag(result.product.name)] == parent.info.run_id
        assert parent.info.experiment_id == runs["experiment"]
        assert tags[TAG_RUN_NAME] == run_name(result.product.name, PIPELINE)
        assert (tags[TAG_STEP], tags[TAG_PRODUCT]) == (PIPELINE, result.product.name)
        assert tags[TAG_EXPERIMENT_CHOSEN] == result.experiment == result.product.experiment
        for step in STEPS:
            assert tags[step_run_tag(step)] == runs[step]
            assert tags[step_cached_tag(step)] == "true"
    out = capsys.readouterr().out
    for step in STEPS:
        assert f"{FIRST.name} {step}: run {cached[FIRST.name][step]} reused" in out
    assert f"{SECOND.name} {PIPELINE}: run {results[1].parent_run_id} in " in out


def test_a_launcher_in_the_products_experiment_is_its_parent(client, cached):
    experiment_id = cached[FIRST.name]["experiment"]
    launcher = client.create_run(experiment_id)
    own = route(experiment_id, FIRST)
    assert adopted_parent([(FIRST, own), (SECOND, own)], launcher) is None
    assert adopted_parent([(FIRST, route(DEFAULT_EXPERIMENT_ID, FIRST))], launcher) is None

    (result,) = run_products([(FIRST, own)], SETTINGS, 4, launcher)
    assert result.parent_run_id == launcher.info.run_id
    tags = client.get_run(launcher.info.run_id).data.tags
    assert tags[step_run_tag(TRAIN)] == cached[FIRST.name][TRAIN]
    assert pipeline_tag(FIRST.name) not in tags


def test_a_failing_product_stops_no_other(client, cached, capsys):
    broken = cache_pipeline(client, SECOND, 3.0, {})  # a register run without its alias
    routes = [(FIRST, route(cached[FIRST.name]["experiment"], FIRST)),
              (SECOND, route(broken["experiment"], SECOND))]
    first, second = run_products(routes, SETTINGS, 2, None)
    assert first.status == FINISHED
    assert second.status == FAILED
    assert client.get_run(second.parent_run_id).data.tags[TAG_ERROR].startswith(
        f"{SECOND.name} {PIPELINE} failed: KeyError")
    assert "Traceback" in capsys.readouterr().err  # our bug: a traceback, not one line
    assert overall_status([first, second]) == FAILED
    assert overall_status([first]) == FINISHED


def test_runs_a_dead_pipeline_left_running_are_ended_and_no_others(client, cached):
    experiment_id = cached[FIRST.name]["experiment"]
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    gone = process_identity(dead.pid)
    parent = client.create_run(experiment_id, tags={TAG_PROCESS: gone})
    step = client.create_run(experiment_id, tags={TAG_PARENT_RUN: parent.info.run_id})
    live = client.create_run(experiment_id, tags={TAG_PROCESS: process_identity()})
    live_step = client.create_run(experiment_id, tags={TAG_PARENT_RUN: live.info.run_id})
    elsewhere = client.create_run(experiment_id, tags={TAG_PROCESS: "another-host:1:1"})
    unknown = client.create_run(experiment_id)

    ended = end_dead_runs(client, [experiment_id])
    assert set(ended) == {parent.info.run_id, step.info.run_id}
    for run_id in ended:
        run = client.get_run(run_id)
        assert run.info.status == FAILED
        assert run.data.tags[TAG_ERROR].startswith(f"left RUNNING by process {gone}, which ended")
    for run in (live, live_step, elsewhere, unknown):
        assert client.get_run(run.info.run_id).info.status == "RUNNING"
        client.set_terminated(run.info.run_id)
    assert end_dead_runs(client, [experiment_id]) == []


def test_a_lost_server_outranks_failures_in_the_overall_status():
    lost, failed = ProductResult(FIRST, None, LOST), ProductResult(SECOND, None, FAILED)
    assert overall_status([failed, lost]) == LOST


def test_summary_table():
    metrics = {"rmse": 1.234, "mase": 0.4567, "coverage_80": 0.8142}
    results = [ProductResult(FIRST, "r1", FINISHED, metrics, "3", "champion",
                             f"{FIRST.experiment}-tree"),
               ProductResult(SECOND, None)]
    lines = summary_table(results).splitlines()
    assert lines[0].split() == ["product", "experiment", "rmse", "mase", "coverage_80",
                                "version", "alias", "status"]
    assert set(lines[1]) == {"-", " "}
    assert lines[2].split() == [FIRST.name, f"{FIRST.experiment}-tree", "1.23", "0.457", "0.81",
                                "3", "champion", FINISHED]
    assert lines[3].split() == [SECOND.name, SECOND.experiment, "-", "-", "-", "-", "-", FAILED]
