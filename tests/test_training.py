"""grocery.training: fit and evaluate as pure functions; the parameters, pictures and model it
logs, read back from a real tracking store."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import mlflow
import numpy as np
import pytest

from grocery import training
from grocery.config import load_config
from grocery.dataset import DATE, TARGET, split_synthetic_sales
from grocery.modeling import resolve_hyperparameters
from grocery.names import TAG_HYPERPARAMETERS, TAG_PREPARE_RUN, TAG_PRODUCT
from grocery.prepared import describe
from tests.conftest import new_store

CONFIG = load_config()
PRODUCT = next(iter(CONFIG.products.values()))
CHOICE = CONFIG.model(CONFIG.default_model)
PARAMS = resolve_hyperparameters(CHOICE, {})


@pytest.fixture(scope="module")
def data():
    split = split_synthetic_sales(CONFIG.generators[PRODUCT.name], 200, "2023-10-03", 3, 0.2,
                                  "time")
    prepared = describe(PRODUCT, "prepare-run", split, "", TARGET, DATE, [])
    return split.train, split.validation, prepared


@pytest.fixture(scope="module")
def fitted(data):
    train, validation, prepared = data
    model = training.fit(CHOICE, PARAMS, train, prepared)
    predictions, metrics = training.evaluate(model, train, validation, prepared)
    return model, predictions, metrics


@pytest.fixture(scope="module")
def tracking(tmp_path_factory):
    folder = tmp_path_factory.mktemp("training")
    store = new_store(folder)
    experiment = store.client.create_experiment("training",
                                                artifact_location=(folder / "art").as_uri())
    mlflow.set_tracking_uri(store.uri)
    yield store, experiment
    mlflow.set_tracking_uri(None)


def test_run_tags_name_the_product_the_data_and_the_model(data):
    tags = training.run_tags(PRODUCT, data[2], CHOICE, PARAMS)
    assert tags[TAG_PRODUCT] == PRODUCT.name and tags[TAG_PREPARE_RUN] == "prepare-run"
    assert json.loads(tags[TAG_HYPERPARAMETERS]) == PARAMS


def test_evaluate_scores_against_baselines_and_the_noise_floor(data, fitted):
    train, validation, prepared = data
    model, predictions, metrics = fitted
    assert predictions.shape == (len(validation),)
    assert {"mae", "mse", "rmse", "r2", "baseline_previous_day_rmse", "baseline_last_week_rmse",
            "improvement_over_baseline", "noise_floor", "rmse_to_noise"} <= set(metrics)
    assert metrics["rmse_to_noise"] == pytest.approx(metrics["rmse"] / prepared.noise_floor)
    assert metrics["rmse"] < min(metrics["baseline_previous_day_rmse"],
                                 metrics["baseline_last_week_rmse"])
    unknown = dataclasses.replace(prepared, noise_floor=None)
    _, without = training.evaluate(model, train, validation, unknown)
    assert "rmse_to_noise" not in without and "noise_floor" not in without
    assert without["rmse"] == metrics["rmse"]


def test_the_summary_line(fitted):
    metrics = {"rmse": 12.345, "mae": 9.87, "r2": 0.91234, "improvement_over_baseline": 0.4567}
    assert training.summary("ridge", metrics) == (
        "ridge rmse 12.35 mae 9.87 r2 0.912, 45.7% better than the best naive baseline")
    assert " rmse_to_noise 1.020," in training.summary("ridge", {**metrics, "rmse_to_noise": 1.02})


def test_logged_params_pictures_and_a_model_that_loads_back(tracking, data, fitted):
    store, experiment = tracking
    _, validation, prepared = data
    model, predictions, _ = fitted
    with mlflow.start_run(experiment_id=experiment) as run:
        logged = next(iter(PARAMS))
        mlflow.log_param(logged, "as passed")
        training.log_estimator_params(model, {logged: "as passed"})
        training.log_plots(model, validation, predictions, prepared, CHOICE.name)
        info = training.log_model(model, validation, predictions, prepared.target,
                                  CONFIG.trusted_types(CHOICE))
    params = store.client.get_run(run.info.run_id).data.params
    assert params[logged] == "as passed"  # the run's own value is not overwritten
    assert set(model.named_steps["model"].get_params()) <= set(params)
    pictures = {a.path for a in store.client.list_artifacts(run.info.run_id, training.PLOTS_DIR)}
    assert pictures == {f"{training.PLOTS_DIR}/{name}" for name in (
        "predicted_vs_actual.png", "residuals_over_time.png", "permutation_importance.png",
        "permutation_importance.json")}
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    np.testing.assert_allclose(loaded.predict(validation), predictions)
    required = [c.name for c in loaded.metadata.get_input_schema().inputs if c.required]
    assert TARGET not in required and DATE in required
    # The model carries the package code it needs to load (its feature steps), and no more.
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=info.model_uri))
    bundled = sorted(p.name for p in (local / "code" / "grocery").iterdir())
    assert bundled == sorted(training.MODEL_CODE)
