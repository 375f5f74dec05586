"""Conformal intervals: held-out coverage near nominal, nested bands, no fold calibrates itself."""

from __future__ import annotations

import numpy as np
import pytest

from grocery.intervals import bands, calibrate, held_out_bands, held_out_coverage

FOLDS, HORIZON = 5, 14
FOLD = np.repeat(np.arange(1, FOLDS + 1), HORIZON)
H = np.tile(np.arange(1, HORIZON + 1), FOLDS)


def test_held_out_coverage_of_gaussian_errors_is_near_nominal():
    rng = np.random.default_rng(7)
    results = []
    for _ in range(300):
        errors = rng.normal(0, 1 + 0.1 * H)  # errors grow with h
        forecast = rng.normal(100, 5, len(H))
        results.append(held_out_coverage(FOLD, H, forecast + errors, forecast, HORIZON))
    assert 0.77 <= np.mean([r["coverage_80"] for r in results]) <= 0.83
    assert 0.92 <= np.mean([r["coverage_95"] for r in results]) <= 0.97
    # The 80% band of N(0, sigma) is 2 x 1.28 sigma wide; mean sigma here is 1.75.
    assert np.mean([r["interval_width_80"] for r in results]) == pytest.approx(4.5, rel=0.1)


def test_the_scale_is_nondecreasing_and_fills_missing_horizons():
    h = np.array([1, 1, 2, 2, 5, 5])
    errors = np.array([2.0, -2.0, 1.0, -1.0, 4.0, -4.0])  # per-h rmse 2, 1, 4
    calibration = calibrate(h, errors, horizon=6)
    assert calibration.scale == pytest.approx((1.5, 1.5, 1.5, 4.0, 4.0, 4.0))
    assert list(calibration.quantiles) == [0.8, 0.95]


def test_the_quantile_is_the_finite_sample_rank_capped_at_the_largest():
    errors = np.arange(1.0, 11.0)  # one horizon: scale = rmse, scores = errors / rmse
    calibration = calibrate(np.ones(10, dtype=int), errors, 1, levels=(0.5, 0.8, 0.95))
    scale = calibration.scale[0]
    assert scale == pytest.approx(np.sqrt(np.mean(errors**2)))
    # n = 10: ranks ceil(11 x 0.5) = 6, ceil(8.8) = 9, ceil(10.45) = 11 -> capped at 10.
    assert calibration.quantiles[0.5] * scale == pytest.approx(6.0)
    assert calibration.quantiles[0.8] * scale == pytest.approx(9.0)
    assert calibration.quantiles[0.95] * scale == pytest.approx(10.0)
    # 25 x 0.56 is 14.000000000000002 in floats: still rank 14.
    many = calibrate(np.ones(24, dtype=int), np.arange(1.0, 25.0), 1, levels=(0.56,))
    assert many.quantiles[0.56] * many.scale[0] == pytest.approx(14.0)


def test_bands_are_nested_around_the_forecast():
    rng = np.random.default_rng(1)
    calibration = calibrate(H, rng.normal(0, 1 + H), HORIZON)
    forecast = rng.normal(50, 10, len(H))
    band = bands(forecast, H, calibration)
    assert set(band) == {"lower_80", "upper_80", "lower_95", "upper_95"}
    assert np.all(band["lower_95"] <= band["lower_80"])
    assert np.all(band["lower_80"] <= forecast) and np.all(forecast <= band["upper_80"])
    assert np.all(band["upper_80"] <= band["upper_95"])
    width = band["upper_80"] - band["lower_80"]
    assert np.all(np.diff(width[:HORIZON]) >= 0)  # wider further ahead


def test_a_folds_own_errors_never_affect_its_own_interval():
    rng = np.random.default_rng(3)
    forecast = rng.normal(100, 5, len(H))
    actual = forecast + rng.normal(0, 2, len(H))
    changed = actual.copy()
    mine = FOLD == 2
    changed[mine] += rng.normal(0, 50, HORIZON)  # fold 2's errors become huge
    before = held_out_bands(FOLD, H, actual, forecast, HORIZON)
    after = held_out_bands(FOLD, H, changed, forecast, HORIZON)
    for name in before:
        np.testing.assert_array_equal(before[name][mine], after[name][mine])
        # The other folds calibrate on fold 2's errors, so theirs widen.
        assert not np.allclose(before[name][~mine], after[name][~mine])
    # Fold 2's band is exactly the one the other four folds' errors calibrate.
    own = bands(forecast[mine], H[mine], calibrate(H[~mine], (actual - forecast)[~mine], HORIZON))
    np.testing.assert_array_equal(own["upper_95"], before["upper_95"][mine])


def test_coverage_counts_actuals_inside_their_held_out_bands():
    forecast = np.zeros(len(H))
    actual = np.where(FOLD == 1, 1000.0, np.random.default_rng(5).normal(0, 1, len(H)))
    result = held_out_coverage(FOLD, H, actual, forecast, HORIZON)
    band = held_out_bands(FOLD, H, actual, forecast, HORIZON)
    inside = (band["lower_80"] <= actual) & (actual <= band["upper_80"])
    assert result["coverage_80"] == pytest.approx(inside.mean())
    assert not inside[FOLD == 1].any()  # fold 1's far-off actuals are never inside
    assert result["coverage_80"] <= 0.8
