"""The statistical baselines: exact naive values, and an ETS that finds trend and season."""

from __future__ import annotations

import numpy as np
import pytest

from grocery.baseline_forecasts import BASELINES, ets, naive, seasonal_naive


def test_naive_repeats_the_last_value():
    assert naive(np.array([1.0, 5.0, 3.0]), 4, 7).tolist() == [3.0] * 4


def test_seasonal_naive_takes_the_same_step_of_the_last_season():
    history = np.arange(10.0)  # last season of 7: 3..9
    assert seasonal_naive(history, 10, 7).tolist() == [3, 4, 5, 6, 7, 8, 9, 3, 4, 5]
    assert seasonal_naive(history, 2, 1).tolist() == [9, 9]
    with pytest.raises(ValueError):
        seasonal_naive(np.arange(5.0), 3, 7)


def signal(days: int) -> np.ndarray:
    """A trend of 0.5 a day and a weekend 30 higher."""
    return 100 + 0.5 * np.arange(days) + np.resize([0.0, 0, 0, 0, 0, 30, 30], days)


def weekly_pattern(days: int) -> np.ndarray:
    return signal(days) + np.random.default_rng(0).normal(0, 3, days)


def test_ets_follows_the_weekly_cycle_and_is_deterministic():
    history = weekly_pattern(140)
    forecast = ets(history, 14, 7)
    truth = signal(154)[140:]
    assert forecast.shape == (14,)
    assert np.sqrt(np.mean((forecast - truth) ** 2)) < 2  # without trend ~4, season ~14
    assert np.sqrt(np.mean((naive(history, 14, 7) - truth) ** 2)) > 10
    np.testing.assert_array_equal(forecast, ets(history, 14, 7))


def test_ets_on_less_than_two_seasons_fits_no_season():
    history = weekly_pattern(12)
    forecast = ets(history, 7, 7)
    assert forecast.shape == (7,) and np.isfinite(forecast).all()
    # A damped trend without a season: the steps shrink and keep one sign.
    steps = np.diff(forecast)
    assert np.all(np.abs(steps[1:]) <= np.abs(steps[:-1]) + 1e-9)


def test_every_baseline_has_the_common_signature():
    history = weekly_pattern(20)
    assert set(BASELINES) == {"naive", "seasonal_naive", "ets"}
    for forecast in BASELINES.values():
        assert forecast(history, 5, 7).shape == (5,)
