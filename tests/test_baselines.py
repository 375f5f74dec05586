"""grocery.baselines: the naive forecasts a model must beat, and their metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from grocery.baselines import BASELINES, baseline_metrics, naive_forecasts
from tests.test_features import own_table


def test_baselines_look_back_one_day_and_one_week():
    table = own_table(30)
    train, validation = table.iloc[:20], table.iloc[20:]
    forecasts = naive_forecasts(train, validation, "units", "day")
    np.testing.assert_array_equal(forecasts["previous_day"], table["units"].iloc[19:29])
    np.testing.assert_array_equal(forecasts["last_week"], table["units"].iloc[13:23])
    metrics = baseline_metrics(train, validation, "units", "day", model_rmse=1.0)
    best = min(metrics["baseline_previous_day_rmse"], metrics["baseline_last_week_rmse"])
    assert metrics["improvement_over_baseline"] == pytest.approx(1 - 1.0 / best)


def test_a_day_whose_lag_is_unknown_gets_the_training_mean():
    table = own_table(30)
    train, validation = table.iloc[:3], table.iloc[20:]  # days 4 to 20 are unknown
    forecasts = naive_forecasts(train, validation, "units", "day")
    assert forecasts["last_week"][0] == pytest.approx(train["units"].mean())
    assert set(forecasts) == set(BASELINES)


def test_no_improvement_over_a_perfect_baseline():
    days = pd.date_range("2024-01-01", periods=20, freq="D")
    flat = pd.DataFrame({"day": days, "units": np.full(20, 5.0)})
    metrics = baseline_metrics(flat.iloc[:15], flat.iloc[15:], "units", "day", model_rmse=1.0)
    assert metrics["baseline_previous_day_rmse"] == 0.0
    assert metrics["improvement_over_baseline"] == 0.0
