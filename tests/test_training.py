"""grocery.training: the forecast task of prepared data, the run's metrics on a time and on the
tutorial's random split, and what it logs, read back from a real tracking store."""

from __future__ import annotations

import json

import mlflow
import pytest

from grocery import training
from grocery.config import load_config
from grocery.dataset import DATE, TARGET, split_synthetic_sales
from grocery.evaluation import backtest_metrics, run_backtest
from grocery.modeling import resolve_hyperparameters
from grocery.names import (
    TAG_EVALUATION,
    TAG_FORECAST_STRATEGY,
    TAG_HYPERPARAMETERS,
    TAG_PREPARE_RUN,
    TAG_PRODUCT,
)
from grocery.own_data import forecast_task
from grocery.prepared import SYNTHETIC, describe, full_table
from grocery.prepared import forecast_task as task_fields
from grocery.tracking import log_record
from tests.conftest import new_store

CONFIG = load_config()
PRODUCT = next(iter(CONFIG.products.values()))
CHOICE = CONFIG.model(CONFIG.default_model)
PARAMS = resolve_hyperparameters(CHOICE, {})
HORIZON, FOLDS = 7, 3


def prepared_data(split_name: str):
    holdout = HORIZON * FOLDS if split_name == "time" else None
    split = split_synthetic_sales(CONFIG.generators[PRODUCT.name], 200, "2023-10-03", 3, 0.2,
                                  split_name, holdout)
    frequency, roles = forecast_task(split.sales, SYNTHETIC, TARGET, DATE, HORIZON, FOLDS,
                                     CONFIG.synthetic_known_ahead)
    task = task_fields(split_name, HORIZON, FOLDS, frequency, roles)
    return split.train, split.validation, describe(PRODUCT, "prepare-run", split, "", TARGET,
                                                   DATE, [], task)


@pytest.fixture(scope="module")
def data():
    return prepared_data("time")


@pytest.fixture(scope="module")
def backtest(data):
    train, validation, prepared = data
    table = full_table(train, validation, prepared)
    spec = training.forecast_spec(prepared, CONFIG.forecast_strategy)
    return table, spec, run_backtest(CHOICE, PARAMS, table, spec, prepared.folds)


def test_the_task_of_prepared_data(data):
    train, validation, prepared = data
    spec = training.forecast_spec(prepared, "recursive")
    assert (spec.horizon, spec.season, spec.step_days, spec.strategy) == (7, 7, 1, "recursive")
    assert set(spec.known_ahead) == set(CONFIG.synthetic_known_ahead)
    table = full_table(train, validation, prepared)
    assert len(table) == 200 and table[DATE].is_monotonic_increasing
    assert list(table[DATE].tail(HORIZON * FOLDS)) == list(validation[DATE])


def test_run_tags_name_the_product_the_data_the_model_and_the_evaluation(data):
    tags = training.run_tags(PRODUCT, data[2], CHOICE, PARAMS,
                             training.forecast_spec(data[2], "direct"))
    assert tags[TAG_PRODUCT] == PRODUCT.name and tags[TAG_PREPARE_RUN] == "prepare-run"
    assert json.loads(tags[TAG_HYPERPARAMETERS]) == PARAMS
    assert tags[TAG_FORECAST_STRATEGY] == "direct"
    assert tags[TAG_EVALUATION] == training.BACKTEST


def test_the_tutorials_random_split_keeps_its_four_metrics_beside_the_backtests(backtest):
    train, validation, prepared = prepared_data("random")
    tutorial = training.tutorial_metrics(CHOICE, PARAMS, train, validation, prepared)
    honest = backtest_metrics(backtest[2])
    metrics = training.run_metrics(honest, tutorial)
    for name in training.TUTORIAL_METRICS:
        assert metrics[name] == tutorial[name]
        assert metrics[f"backtest_{name}"] == honest[name]
    assert metrics["mase"] == honest["mase"]
    assert training.run_metrics(honest, None) == honest
    assert training.noise_floor_of(prepared) is None  # random days are not the backtest's


def test_the_summary_line(backtest):
    metrics = backtest_metrics(backtest[2], 50.0)
    line = training.summary(CHOICE.name, metrics)
    assert line.startswith(f"{CHOICE.name} backtest rmse {metrics['rmse']:.2f} mase ")
    assert "coverage_80" in line and "rmse_to_noise" in line
    assert line.endswith("better than the best baseline")


def test_logged_histories_linked_to_the_model_and_dataset_and_pictures(tmp_path, backtest):
    table, spec, result = backtest
    store = new_store(tmp_path)
    mlflow.set_tracking_uri(store.uri)
    try:
        with mlflow.start_run() as run:
            model = store.client.create_logged_model(run.info.experiment_id, name="apples-ridge",
                                                     source_run_id=run.info.run_id)
            dataset = mlflow.data.from_pandas(table, name="apples-backtest", digest="d1")
            metrics = backtest_metrics(result, 50.0)
            log_record(run.info.run_id,
                       training.scored_metrics(metrics, result, model.model_id, dataset),
                       {"alpha": 1.0}, {"note": "one request"})
            training.log_plots(run, result, table, spec, "test")
        found = mlflow.search_logged_models(
            experiment_ids=[run.info.experiment_id], output_format="list",
            filter_string=f"metrics.rmse <= {metrics['rmse']}",
            datasets=[{"dataset_name": "apples-backtest", "dataset_digest": "d1"}])
    finally:
        mlflow.set_tracking_uri(None)
    logged = store.client.get_run(run.info.run_id)
    assert logged.data.params["alpha"] == "1.0" and logged.data.tags["note"] == "one request"
    assert logged.data.metrics["rmse"] == metrics["rmse"]
    history = store.client.get_metric_history(run.info.run_id, "rmse_by_horizon")
    assert [m.step for m in history] == list(range(1, HORIZON + 1))
    on_model = store.client.get_logged_model(model.model_id).metrics
    assert {m.key for m in on_model} >= {"rmse", "mase", "rmse_by_horizon"}
    assert {(m.dataset_name, m.dataset_digest) for m in on_model} == {("apples-backtest", "d1")}
    assert [m.model_id for m in found] == [model.model_id]
    pictures = {f.path for f in store.client.list_artifacts(run.info.run_id,
                                                            training.PLOTS_DIR)}
    assert {f"{training.PLOTS_DIR}/{name}.png" for name in
            ("fan_chart", "error_by_horizon", "predicted_vs_actual",
             "residuals_over_time")} <= pictures
