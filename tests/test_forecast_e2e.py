"""End to end: the forecast task's bad input through the real `mlflow run` (one line, exit 2,
nothing registered), and what a train run records of its backtest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grocery.config import load_config
from grocery.dataset import simulate_sales
from grocery.errors import UserError
from tests.conftest import Store, error_lines, new_store, succeeded

CONFIG = load_config()
PRODUCT = next(iter(CONFIG.products.values()))


def own_table(folder: Path, rows: int) -> Path:
    """A user's daily table: a planned price, the weather, and units sold."""
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"day": pd.date_range("2024-01-01", periods=rows, freq="D"),
                          "price": rng.uniform(1, 2, rows), "rain": rng.exponential(3, rows),
                          "units": rng.normal(100, 5, rows)})
    path = folder / f"own-{rows}.csv"
    frame.to_csv(path, index=False)
    return path


def own(folder: Path, rows: int, **params: object) -> dict:
    return {"product": "oat-milk", "department": "dairy", "target": "units",
            "date_column": "day", "data": own_table(folder, rows), **params}


BAD = [
    ("main-rows", lambda d: {"product": PRODUCT.name, "rows": 60},
     "rows=60: the table has 60 rows; horizon 14 with 5 folds needs at least 98 (28 to train "
     "before the first origin + 5 x 14)"),
    ("horizon", lambda d: {"product": PRODUCT.name, "horizon": 0},
     "horizon must be 1 or more, got 0"),
    ("folds", lambda d: {"product": PRODUCT.name, "folds": 0}, "folds must be 1 or more, got 0"),
    ("own-rows", lambda d: own(d, 50), "the table has 50 rows; horizon 14 with 5 folds needs "
     "at least 98 (28 to train before the first origin + 5 x 14)"),
    ("unknown-column", lambda d: own(d, 120, known_ahead="prcie"),
     "known_ahead column 'prcie' is not in the table (columns: day, price, rain, units)"),
    ("target-ahead", lambda d: own(d, 120, known_ahead="units"),
     "known_ahead column 'units' is the target; a forecast never knows its own target ahead, "
     "leave it out of known_ahead"),
]
THROUGH_MLFLOW_RUN = "own-rows"  # the others run in this process (tests/conftest.py)


def test_bad_forecast_input_is_one_line_and_leaves_nothing_behind(store, tmp_path):
    make, message = next(b[1:] for b in BAD if b[0] == THROUGH_MLFLOW_RUN)
    result = store.mlflow_run(**make(tmp_path))
    assert result.returncode != 0, result.stderr  # the step exits 2; `mlflow run` says 1
    lines = error_lines(result)
    assert len(lines) == 1 and lines[0].endswith(message), lines
    assert "Traceback" not in result.stderr
    runs = store.client.search_runs(
        [e.experiment_id for e in store.client.search_experiments()])
    assert runs and all(r.info.status == "FAILED" for r in runs)
    assert not store.client.search_model_versions()


HERE = [b for b in BAD if b[0] != THROUGH_MLFLOW_RUN]


@pytest.mark.parametrize(("make", "message"), [b[1:] for b in HERE], ids=[b[0] for b in HERE])
def test_bad_forecast_input_is_refused_before_any_run(store, step_here, tmp_path, make,
                                                      message):
    error = step_here(store, "main", **make(tmp_path))
    assert isinstance(error, UserError) and str(error).endswith(message), error
    assert store.client.search_runs(
        [e.experiment_id for e in store.client.search_experiments()]) == []


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Store, object]:
    store = new_store(tmp_path_factory.mktemp("forecast"))
    succeeded(store.mlflow_run(product=PRODUCT.name, horizon=7, folds=3))
    experiment = store.client.get_experiment_by_name(PRODUCT.experiment)
    train = store.client.search_runs([experiment.experiment_id],
                                     filter_string="tags.`grocery.step` = 'train'")[0]
    return store, train


def test_a_train_run_records_its_backtest(trained):
    store, train = trained
    metrics = train.data.metrics
    for name in ("rmse", "mae", "mse", "r2", "mase", "rmsse", "coverage_80", "coverage_95",
                 "interval_width_80", "baseline_naive_mase", "baseline_seasonal_naive_mase",
                 "baseline_ets_mase", "improvement_over_baseline", "rmse_to_noise"):
        assert name in metrics, name
    assert metrics["mase"] < min(metrics[f"baseline_{b}_mase"]
                                 for b in ("naive", "seasonal_naive", "ets"))
    history = store.client.get_metric_history(train.info.run_id, "mase_by_horizon")
    assert [m.step for m in history] == list(range(1, 8))
    prepare = store.client.get_run(train.data.tags["prepare_run_id"])
    assert prepare.data.tags["grocery.target_lags"] == "previous_days_demand (lag 1)"
    assert prepare.data.metrics["validation_rows"] == 7 * 3


def test_the_logged_model_forecasts_from_history_plus_future_rows(trained):
    import mlflow

    store, train = trained
    mlflow.set_tracking_uri(store.uri)
    try:
        model = mlflow.pyfunc.load_model(train.data.tags["model_uri"])
    finally:
        mlflow.set_tracking_uri(None)
    sales = simulate_sales(CONFIG.generators[PRODUCT.name], 60, "2023-10-10", 4)[0]
    table = sales.copy()
    table.loc[table.index[-7:], ["demand", "rainfall", "average_temperature"]] = np.nan
    answer = model.predict(table)
    assert len(answer) == 7 and list(answer["date"]) == list(sales["date"].tail(7))
    assert (answer["lower_95"] <= answer["forecast"]).all()
