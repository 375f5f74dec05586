"""grocery.evaluation: the rolling-origin backtest of a model and the baselines it must beat."""

from __future__ import annotations

import numpy as np
import pytest

from grocery.config import load_config
from grocery.dataset import noise_floor, simulate_sales
from grocery.evaluation import (
    backtest_metrics,
    by_horizon,
    model_backtest,
    run_backtest,
    scores,
)
from grocery.forecaster import ForecastSpec
from grocery.names import SCORES

CONFIG = load_config()
SPEC = ForecastSpec("demand", "date", ("price_per_kg", "promo", "holiday", "weekend"), 7, 1, 14)


@pytest.fixture(scope="module")
def backtest():
    generator = next(iter(CONFIG.generators.values()))
    sales, noise = simulate_sales(generator, 400, "2023-10-03", 9999)
    result = run_backtest(CONFIG.model("ridge"), {"alpha": 1.0}, sales, SPEC, 5)
    return sales, noise, result


def test_one_forecast_per_fold_and_step_with_held_out_bands(backtest):
    sales, _, result = backtest
    frame = result.forecasts
    assert len(frame) == 5 * 14 and sorted(frame["h"].unique()) == list(range(1, 15))
    assert list(frame["date"]) == list(sales["date"].tail(70))
    assert (frame["lower_95"] <= frame["lower_80"]).all()
    assert set(result.baselines) == {"naive", "seasonal_naive", "ets"}
    assert all(len(b) == 70 for b in result.baselines.values())
    assert len(result.calibration.scale) == 14


def test_metrics_reach_the_noise_floor_and_beat_every_baseline(backtest):
    sales, noise, result = backtest
    metrics = backtest_metrics(result, noise_floor(noise, sales.index[-70:]))
    assert metrics["rmse_to_noise"] < 1.15
    for name in result.baselines:
        assert metrics["mase"] < metrics[f"baseline_{name}_mase"]
    assert 0 < metrics["improvement_over_baseline"] < 1
    assert 0.5 < metrics["coverage_80"] <= metrics["coverage_95"] <= 1
    assert metrics["rmse"] == pytest.approx(np.sqrt(metrics["mse"]))


def test_per_horizon_tables_for_the_model_and_each_baseline(backtest):
    tables = by_horizon(backtest[2])
    assert set(tables) == {"model", "naive", "seasonal_naive", "ets"}
    assert list(tables["model"].index) == list(range(1, 15))


def test_the_backtest_never_reads_after_its_origin(backtest):
    sales = backtest[0]
    first = model_backtest(CONFIG.model("ridge"), {"alpha": 1.0}, sales, SPEC, 5)
    origin = first["origin"].min()
    later = sales["date"] > origin
    scrambled = sales.copy()
    rng = np.random.default_rng(7)
    for column in ("demand", "average_temperature", "rainfall", "previous_days_demand"):
        scrambled.loc[later, column] = rng.normal(0, 1e5, later.sum())
    second = model_backtest(CONFIG.model("ridge"), {"alpha": 1.0}, scrambled, SPEC, 5)
    fold_one = first["fold"] == 1
    assert np.array_equal(first.loc[fold_one, "forecast"], second.loc[fold_one, "forecast"])


def test_a_train_runs_scores_are_the_gates_scores_of_the_same_configuration(backtest):
    # register reuses the candidate's train-run scores instead of backtesting it again: they
    # must be exactly what the gate's own backtest of that configuration gives.
    sales, _, result = backtest
    again = scores(model_backtest(CONFIG.model("ridge"), {"alpha": 1.0}, sales, SPEC, 5))
    logged = backtest_metrics(result)
    assert {name: logged[name] for name in SCORES} == again
