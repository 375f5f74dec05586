"""grocery.logged_forecaster and grocery.forecaster_model: the forecaster logged as an MLflow
model from code, loaded back through MLflow, answering like the forecaster in memory."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml

from grocery.config import load_config
from grocery.dataset import simulate_sales
from grocery.evaluation import run_backtest
from grocery.forecaster import OUTPUT_COLUMNS, ForecastSpec, fit_forecaster, forecast_table
from grocery.logged_forecaster import (
    checked_skops_file,
    example_input,
    log_forecaster,
    no_bytecode_cache,
)
from grocery.model_trust import refusal
from tests.conftest import bytecode_cache_on, new_store

CONFIG = load_config()
CHOICE = CONFIG.model("ridge")
SPEC = ForecastSpec("demand", "date", tuple(CONFIG.synthetic_known_ahead), 7, 1, 14)


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    sales = simulate_sales(next(iter(CONFIG.generators.values())), 200, "2023-10-03", 5)[0]
    backtest = run_backtest(CHOICE, {"alpha": 1.0}, sales, SPEC, 3)
    model = fit_forecaster(CHOICE, {"alpha": 1.0}, sales, SPEC)
    store = new_store(tmp_path_factory.mktemp("logged"))
    mlflow.set_tracking_uri(store.uri)
    # Python's default, whatever this environment says: bytecode is cached beside the source.
    try:
        with bytecode_cache_on():
            info = log_forecaster(store.client.create_run("0"), model, backtest.calibration,
                                  SPEC, sales, CONFIG.trusted_types(CHOICE))
            folder = Path(mlflow.artifacts.download_artifacts(info.model_uri))
            with no_bytecode_cache():  # MLflow's loader imports the stored model in place
                loaded = mlflow.pyfunc.load_model(info.model_uri)
    finally:
        mlflow.set_tracking_uri(None)
    return sales, model, backtest.calibration, info, loaded, folder


def test_the_loaded_model_answers_like_the_forecaster_in_memory(logged):
    sales, model, calibration, _, loaded, _ = logged
    table = example_input(sales, SPEC)
    answer = loaded.predict(table)
    assert list(answer.columns) == ["date", *OUTPUT_COLUMNS] and len(answer) == SPEC.horizon
    expected = forecast_table(model, calibration, SPEC, table)
    np.testing.assert_allclose(answer[list(OUTPUT_COLUMNS)], expected[list(OUTPUT_COLUMNS)],
                               rtol=1e-12)


def test_the_example_is_history_then_future_with_only_known_columns(logged):
    table = example_input(logged[0], SPEC)
    future = table.tail(SPEC.horizon)
    assert future["demand"].isna().all() and future["rainfall"].isna().all()
    assert future[list(SPEC.known_ahead)].notna().all().all()
    assert table.head(2 * SPEC.season)["demand"].notna().all()


def test_the_signature_requires_the_date_and_known_ahead_columns_only(logged):
    schema = logged[3].signature.inputs
    required = {spec.name for spec in schema.inputs if spec.required}
    assert required == {"date", *SPEC.known_ahead}
    assert logged[3].signature.outputs.input_names() == ["date", *OUTPUT_COLUMNS]


def test_nothing_pickled_and_the_configuration_in_the_model(logged):
    folder = logged[5]
    mlmodel = yaml.safe_load((folder / "MLmodel").read_text())
    config = mlmodel["flavors"]["python_function"]["config"]
    assert config["spec"]["horizon"] == SPEC.horizon
    assert config["trusted_types"] == CONFIG.trusted_types(CHOICE)
    files = [p.name for p in folder.rglob("*")]
    assert not [f for f in files if f.endswith((".pkl", ".pickle", ".cloudpickle"))]
    assert any(f.endswith(".skops") for f in files)
    # Logging loads the model from its own folder; no bytecode of that may travel with it.
    assert not [f for f in files if f.endswith(".pyc") or f == "__pycache__"]
    assert refusal(folder, CONFIG.trusted_types(CHOICE)) is None


def test_an_unreviewed_type_is_refused(tmp_path):
    frame = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=40), "x": 1.0,
                          "y": np.arange(40.0)})
    spec = ForecastSpec("y", "date", ("x",), 7, 1, 3)
    model = fit_forecaster(CONFIG.model("random_forest"), {"n_estimators": 2}, frame, spec)
    with pytest.raises(RuntimeError, match="types no one reviewed"):
        checked_skops_file(model, tmp_path, CONFIG.trusted_types(CHOICE))
