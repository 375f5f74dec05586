"""The forecasting benchmark's pure helpers: floors per horizon, ratios, excess, import times."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from bench.forecasting import (
    excess_over_floor,
    importtime_seconds,
    median_of,
    noise_by_horizon,
    ratio_by_horizon,
)

DATES = pd.date_range("2023-01-01", periods=4, freq="D")
NOISE = pd.Series([3.0, -4.0, 1.0, -1.0], index=DATES)


def forecasts(forecast: list[float], actual: list[float]) -> pd.DataFrame:
    """Two folds of horizon 2: days 1-2 and 3-4."""
    return pd.DataFrame({"fold": [1, 1, 2, 2], "h": [1, 2, 1, 2], "date": DATES,
                         "actual": actual, "forecast": forecast, "mae_scale": 1.0})


def test_noise_by_horizon_is_the_rms_of_each_h_days_noise():
    floor = noise_by_horizon(forecasts([0] * 4, [0] * 4), NOISE)
    assert floor.loc[1] == pytest.approx(math.sqrt((9 + 1) / 2))
    assert floor.loc[2] == pytest.approx(math.sqrt((16 + 1) / 2))


def test_a_forecast_of_the_expected_demand_sits_on_the_floor():
    expected = np.array([10.0, 20.0, 30.0, 40.0])
    frame = forecasts(list(expected), list(expected + NOISE.to_numpy()))
    assert ratio_by_horizon(frame, NOISE).to_numpy() == pytest.approx([1.0, 1.0])
    assert excess_over_floor(frame, NOISE) == pytest.approx(0.0)


def test_excess_is_the_miss_from_the_expected_demand_over_the_floor():
    expected = np.array([10.0, 20.0, 30.0, 40.0])
    frame = forecasts(list(expected + 2.0), list(expected + NOISE.to_numpy()))
    floor = math.sqrt(np.mean(NOISE.to_numpy() ** 2))
    assert excess_over_floor(frame, NOISE) == pytest.approx(2.0 / floor)
    # Per h, a few draws can put a biased forecast below the floor: errors 1 and -1 at h=1.
    assert ratio_by_horizon(frame, NOISE).loc[1] == pytest.approx(1 / math.sqrt(5))


def test_a_forecast_day_without_noise_is_an_error():
    frame = forecasts([0] * 4, [0] * 4).assign(date=DATES + pd.Timedelta(days=10))
    with pytest.raises(ValueError, match="no realized noise"):
        noise_by_horizon(frame, NOISE)


def test_importtime_reads_the_module_top_level_cumulative_line():
    report = "\n".join([
        "import time: self [us] | cumulative | imported package",
        "import time:       900 |       5000 |   statsmodels.tsa.exponential_smoothing.base",
        "import time:      1013 |    1212480 | statsmodels.tsa.exponential_smoothing.ets",
    ])
    assert importtime_seconds(report, "statsmodels.tsa.exponential_smoothing.ets") == \
        pytest.approx(1.21248)
    with pytest.raises(ValueError):
        importtime_seconds(report, "statsmodels.tsa.exponential_smoothing.base")


def test_median_of_takes_each_key_over_rows():
    assert median_of([{"a": 1.0, "b": 9.0}, {"a": 3.0, "b": 1.0}, {"a": 2.0, "b": 5.0}]) == \
        {"a": 2.0, "b": 5.0}
