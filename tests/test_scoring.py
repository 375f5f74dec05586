"""Accuracy metrics: values worked out by hand, the seasonal-naive scale, and per-horizon rows."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from grocery.scoring import forecast_metrics, metrics_by_horizon, seasonal_naive_scale


def test_seasonal_naive_scale_compares_each_value_with_one_season_before():
    history = np.array([1.0, 2.0, 3.0, 2.0, 4.0, 6.0])  # season 3: errors 1, 2, 3
    assert seasonal_naive_scale(history, 3) == pytest.approx((2.0, 14 / 3))


def test_a_history_shorter_than_a_season_falls_back_to_the_naive_scale():
    history = np.array([1.0, 3.0, 2.0])  # steps 2 and -1
    assert seasonal_naive_scale(history, 7) == pytest.approx((1.5, 2.5))
    with pytest.raises(ValueError):
        seasonal_naive_scale(np.array([1.0]), 7)


def test_forecast_metrics_by_hand():
    actual = np.array([10.0, 12.0, 14.0, 16.0])
    forecast = np.array([11.0, 12.0, 12.0, 16.0])  # errors 1, 0, 2, 0
    metrics = forecast_metrics(actual, forecast, mae_scale=1.5, mse_scale=5.0)
    assert metrics["mae"] == pytest.approx(0.75)
    assert metrics["mse"] == pytest.approx(1.25)
    assert metrics["rmse"] == pytest.approx(math.sqrt(1.25))
    assert metrics["r2"] == pytest.approx(1 - 5.0 / 20.0)
    assert metrics["mase"] == pytest.approx(0.5)
    assert metrics["rmsse"] == pytest.approx(0.5)


def test_undefined_values_are_nan_not_errors():
    metrics = forecast_metrics(np.array([3.0]), np.array([1.0]), mae_scale=0.0, mse_scale=0.0)
    assert metrics["mae"] == 2.0
    assert math.isnan(metrics["r2"]) and math.isnan(metrics["mase"])
    assert math.isnan(metrics["rmsse"])


def test_metrics_by_horizon_scales_each_row_by_its_own_fold():
    frame = pd.DataFrame({
        "h": [2, 1, 2, 1],
        "actual": [10.0, 10.0, 10.0, 10.0],
        "forecast": [13.0, 11.0, 6.0, 10.0],  # |errors| h=1: 1, 0; h=2: 3, 4
        "mae_scale": [1.0, 2.0, 4.0, 4.0],
    })
    table = metrics_by_horizon(frame)
    assert list(table.index) == [1, 2] and table.index.name == "h"
    assert table.loc[1, "rmse"] == pytest.approx(math.sqrt(0.5))
    assert table.loc[2, "rmse"] == pytest.approx(math.sqrt(12.5))
    assert table.loc[1, "mase"] == pytest.approx((1 / 2 + 0 / 4) / 2)
    assert table.loc[2, "mase"] == pytest.approx((3 / 1 + 4 / 4) / 2)


def test_a_fold_without_scale_leaves_its_horizons_mase_undefined():
    frame = pd.DataFrame({"h": [1, 1], "actual": [5.0, 5.0], "forecast": [4.0, 6.0],
                          "mae_scale": [0.0, 2.0]})
    table = metrics_by_horizon(frame)
    assert math.isnan(table.loc[1, "mase"]) and table.loc[1, "rmse"] == pytest.approx(1.0)
