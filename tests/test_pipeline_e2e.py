"""End to end: the real `mlflow run . -P product=dairy --env-manager local`, read back."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest

from grocery.config import load_config
from grocery.names import TAG_PROCESS
from tests.conftest import Store, copy_project, new_store, succeeded

CATALOG = load_config()
DAIRY = CATALOG.resolve("dairy")


@pytest.fixture(scope="module")
def dairy(tmp_path_factory) -> tuple[Store, str, str]:
    """One real run of the whole pipeline for the dairy department."""
    store = new_store(tmp_path_factory.mktemp("dairy"))
    result = succeeded(store.mlflow_run(product="dairy"))
    return store, result.stdout, result.stderr


def parent_run(store: Store, product) -> mlflow.entities.Run:
    experiment = store.client.get_experiment_by_name(product.experiment)
    parents = store.client.search_runs(
        [experiment.experiment_id], filter_string="tags.`grocery.step` = 'pipeline'"
    )
    assert len(parents) == 1
    return parents[0]


def children(store: Store, parent: mlflow.entities.Run) -> list[mlflow.entities.Run]:
    return store.client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'",
    )


def test_experiments_carry_every_tag(dairy):
    store, _, _ = dairy
    found = store.client.search_experiments(
        filter_string="tags.`project_name` = 'grocery-forecasting'"
    )
    assert sorted(e.name for e in found) == ["Cheese_Models", "Milk_Models"]
    for product in DAIRY:
        experiment = store.client.get_experiment_by_name(product.experiment)
        assert CATALOG.experiment_tags(product).items() <= experiment.tags.items()


def test_each_product_has_one_parent_with_three_finished_steps(dairy):
    store, _, _ = dairy
    for product in DAIRY:
        parent = parent_run(store, product)
        assert parent.info.status == "FINISHED"
        steps = children(store, parent)
        assert sorted(r.data.tags["mlflow.project.entryPoint"] for r in steps) == [
            "prepare", "register", "train"]
        assert all(r.info.status == "FINISHED" for r in steps)
        by_step = {r.data.tags["mlflow.project.entryPoint"]: r for r in steps}
        for step, run in by_step.items():
            assert parent.data.tags[f"step.{step}.run_id"] == run.info.run_id
            assert run.data.tags["product"] == product.name
        assert parent.data.tags["model_version"] == "1"
        assert parent.data.tags["alias"] == "champion"
        assert parent.data.metrics["rmse"] == by_step["train"].data.metrics["rmse"]


def test_train_metrics_are_sane_and_datasets_logged(dairy):
    store, _, _ = dairy
    for product in DAIRY:
        train = next(r for r in children(store, parent_run(store, product))
                     if r.data.tags["mlflow.project.entryPoint"] == "train")
        metrics = train.data.metrics
        assert metrics["rmse"] == pytest.approx(metrics["mse"] ** 0.5)
        # Above the noise floor, below the spread of demand itself.
        noise_std = CATALOG.generators[product.name].noise_std
        assert noise_std < metrics["rmse"] < 3 * noise_std
        assert 0.5 < metrics["r2"] < 1
        assert train.data.params["model"] == "ridge"
        assert train.data.params["alpha"] == "1.0"
        assert metrics["rmse_to_noise"] <= 1.10
        contexts = sorted(d.tags[0].value for d in train.inputs.dataset_inputs)
        assert contexts == ["evaluation", "training", "validation"]
        # The logged model is named after what it forecasts; its scores are linked to it and
        # to the backtest's table, so MLflow ranks a product's forecasters on one dataset.
        model_id = train.outputs.model_outputs[0].model_id
        logged = store.client.get_logged_model(model_id)
        assert logged.name == f"{product.name}-ridge"
        assert logged.params["alpha"] == "1.0"
        scored = {m.key: m for m in logged.metrics}
        assert scored["rmse"].value == metrics["rmse"]
        assert scored["rmse"].dataset_name == f"{product.name}-backtest"
        assert scored["rmse"].dataset_digest == train.data.tags["data_digest"]


def test_version_tags_alias_and_loading_by_alias(dairy):
    store, _, _ = dairy
    milk = CATALOG.product("milk")
    version = store.client.get_model_version_by_alias(milk.registered_model, "champion")
    parent = parent_run(store, milk)
    tags = version.tags
    assert tags["train_run_id"] == parent.data.tags["step.train.run_id"]
    assert tags["prepare_run_id"] == parent.data.tags["step.prepare.run_id"]
    prepare = store.client.get_run(tags["prepare_run_id"])
    assert tags["data_digest"] == prepare.data.tags["data_digest"]
    assert tags["product"] == "milk" and tags["store_dept"] == "dairy"
    assert len(tags["git_commit"]) in (40, 7) or tags["git_commit"] == "unknown"
    assert float(tags["rmse"]) == parent.data.metrics["rmse"]
    assert "mae" in tags
    assert store.client.get_registered_model(milk.registered_model).description

    mlflow.set_tracking_uri(store.uri)
    try:
        model = mlflow.pyfunc.load_model(f"models:/{milk.registered_model}@champion")
        folder = mlflow.artifacts.download_artifacts(f"runs:/{tags['prepare_run_id']}/data")
    finally:
        mlflow.set_tracking_uri(None)
    train = pd.read_parquet(f"{folder}/train.parquet")
    days = pd.read_parquet(f"{folder}/validation.parquet").head(14)  # the backtest's first fold
    future = days.assign(demand=np.nan, average_temperature=np.nan, rainfall=np.nan)
    answer = model.predict(pd.concat([train, future], ignore_index=True))
    assert list(answer["date"]) == list(days["date"])
    rmse = float(np.sqrt(np.mean((answer["forecast"].to_numpy() - days["demand"]) ** 2)))
    assert rmse < 2 * CATALOG.generators["milk"].noise_std


def test_default_holds_no_step_runs_and_the_launcher_names_the_pipelines(dairy):
    store, output, _ = dairy
    runs = store.client.search_runs(["0"])
    assert len(runs) == 1
    launcher = runs[0]
    assert launcher.data.tags["mlflow.project.entryPoint"] == "main"
    ours = {k: v for k, v in launcher.data.tags.items() if not k.startswith("mlflow.")}
    assert ours.pop(TAG_PROCESS)  # which process ran it, so a rerun can tell it died
    assert ours == {f"pipeline.{p.name}": parent_run(store, p).info.run_id for p in DAIRY}
    assert not launcher.data.metrics
    # The summary table names each product's outcome.
    table = output.splitlines()
    table = table[max(i for i, x in enumerate(table) if x.startswith("product ")):]
    for product in DAIRY:
        line = next(x for x in table if x.startswith(product.name + " "))
        assert product.experiment in line and "champion" in line and "FINISHED" in line


def test_one_failing_product_does_not_stop_the_others(tmp_path):
    project = copy_project(tmp_path / "project")
    prepare = project / "steps" / "prepare.py"
    # A fault only cheese meets: its prepare step dies at once.
    prepare.write_text(prepare.read_text().replace(
        "def main() -> None:\n",
        "def main() -> None:\n    if '--product' in sys.argv and 'cheese' in sys.argv:\n"
        "        raise SystemExit('injected failure')\n", 1).replace(
        "import argparse\n", "import argparse\nimport sys\n", 1))
    store = new_store(tmp_path / "store")
    result = store.mlflow_run(project=project, product="dairy")
    assert result.returncode != 0
    table = result.stdout.splitlines()
    table = table[max(i for i, x in enumerate(table) if x.startswith("product ")):]
    rows = {line.split()[0]: line.split() for line in table[2:] if line.strip()}
    assert rows["milk"][-1] == "FINISHED" and rows["milk"][-2] == "champion"
    assert rows["cheese"][-1] == "FAILED"
    assert store.client.get_model_version_by_alias("grocery-forecasting-milk", "champion")
    assert not store.client.search_model_versions("name = 'grocery-forecasting-cheese'")


def test_the_console_has_one_line_per_product_and_step_and_no_mlflow_info(dairy):
    _, output, errors = dairy
    for product in DAIRY:
        for step in ("pipeline", "prepare", "train", "register"):
            lines = [x for x in output.splitlines() if x.startswith(f"{product.name} {step}: ")]
            assert len(lines) == 1, output
    assert "train: run " in output and " backtest rmse " in output  # the key metric
    # The outer `mlflow run` is MLflow's own process and logs its INFO lines; nothing the
    # project started does (the steps' commands, MLflow's registry prints).
    assert "python -m steps.prepare" not in errors and "Created version" not in errors
