"""grocery.trained_record: what a train run logs once its model is fitted, read back from a
real SQLite store."""

from __future__ import annotations

import mlflow

from grocery.config import load_config
from grocery.dataset import simulate_sales
from grocery.evaluation import backtest_metrics, run_backtest
from grocery.forecaster import ForecastSpec, fit_forecaster
from grocery.names import TAG_MODEL_URI
from grocery.step_run import StepRecord
from grocery.trained_record import log_trained
from tests.conftest import new_store

CONFIG = load_config()
CHOICE = CONFIG.model("ridge")
SPEC = ForecastSpec("demand", "date", tuple(CONFIG.synthetic_known_ahead), 7, 1, 14)


def test_the_model_its_linked_scores_its_parameters_and_pictures(tmp_path):
    sales = simulate_sales(next(iter(CONFIG.generators.values())), 200, "2023-10-03", 5)[0]
    backtest = run_backtest(CHOICE, {"alpha": 1.0}, sales, SPEC, 2)
    metrics = backtest_metrics(backtest)
    model = fit_forecaster(CHOICE, {"alpha": 1.0}, sales, SPEC)
    dataset = mlflow.data.from_pandas(sales, name="milk-backtest", digest="d1")
    store = new_store(tmp_path)
    mlflow.set_tracking_uri(store.uri)
    try:
        run = store.client.create_run("0")
        store.client.log_param(run.info.run_id, "alpha", "1.0")  # as `mlflow run` logs them
        step = StepRecord(store.client.get_run(run.info.run_id), {})
        info = log_trained(step, model, backtest, metrics, sales, SPEC, CHOICE, "milk",
                           {"alpha": 1.0}, CONFIG.trusted_types(CHOICE), dataset)
        step.flush()
    finally:
        mlflow.set_tracking_uri(None)
    logged = store.client.get_run(run.info.run_id)
    assert logged.data.tags[TAG_MODEL_URI] == info.model_uri
    assert logged.data.metrics["rmse"] == metrics["rmse"]
    assert "fit_intercept" in logged.data.params  # the estimator's own, beside MLproject's
    model_record = store.client.get_logged_model(info.model_id)
    assert (model_record.name, model_record.params["alpha"]) == ("milk-ridge", "1.0")
    # The model is the run's output, made by it, and its params hold the model's alone.
    assert [o.model_id for o in logged.outputs.model_outputs] == [info.model_id]
    assert model_record.source_run_id == run.info.run_id
    assert not any(key.startswith("spec") for key in logged.data.params)
    rmse = next(m for m in model_record.metrics if m.key == "rmse")
    assert (rmse.value, rmse.dataset_name, rmse.dataset_digest) == (
        metrics["rmse"], "milk-backtest", "d1")
    pictures = {f.path for f in store.client.list_artifacts(run.info.run_id, "evaluation")}
    assert "evaluation/fan_chart.png" in pictures
