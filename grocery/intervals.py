"""Prediction intervals from out-of-sample backtest errors: normalized split conformal, per h.

In-sample residuals make intervals far too narrow, so the errors that calibrate an interval are
backtest errors, made by forecasts that never saw their day. Each step ahead h gets a scale
(errors grow with h; isotonic regression keeps the scale nondecreasing in h) and every level
one conformal quantile of |error| / scale. Coverage is measured on folds not used to calibrate.
Many series of different size share one calibration through their levels: each error is divided
by its series' level before calibrating, and each band is multiplied by it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from sklearn.isotonic import IsotonicRegression

LEVELS = (0.8, 0.95)


@dataclass(frozen=True)
class IntervalCalibration:
    """Per-horizon error scale (index h - 1) and, per level, the quantile of scaled |error|."""

    scale: tuple[float, ...]
    quantiles: dict[float, float]


def _label(level: float) -> str:
    return f"{round(level * 100):d}"


def _horizon_scale(h: np.ndarray, errors: np.ndarray, horizon: int) -> np.ndarray:
    """Isotonic (nondecreasing) per-horizon RMSE; a horizon without errors takes the nearest."""
    steps, counts = np.unique(h, return_counts=True)
    rmse = np.array([math.sqrt(np.mean(errors[h == step] ** 2)) for step in steps])
    smooth = IsotonicRegression(increasing=True).fit_transform(steps, rmse, sample_weight=counts)
    every = np.arange(1, horizon + 1)
    # Nearest calibrated step; a tie goes to the later (wider) one.
    nearest = np.abs(every[:, None] - steps[None, :])
    pick = nearest.shape[1] - 1 - np.argmin(nearest[:, ::-1], axis=1)
    return smooth[pick]


def _scores(h: np.ndarray, errors: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """|error| / scale of its horizon (0 where both are 0)."""
    per_row = scale[h - 1]
    return np.divide(np.abs(errors), per_row, out=np.zeros(len(errors)), where=per_row > 0)


def calibrate(h: np.ndarray, errors: np.ndarray, horizon: int,
              levels: tuple[float, ...] = LEVELS) -> IntervalCalibration:
    """A calibration from out-of-sample errors (actual - forecast) at steps ahead ``h``.

    The quantile of each level is the score of finite-sample rank ceil((n + 1) * level) among
    the n calibration scores, capped at the largest. The scale is fitted on the same errors, so
    with few of them coverage runs a little below ``level`` (tests/test_intervals.py).
    """
    h = np.asarray(h, dtype=np.int64)
    errors = np.asarray(errors, dtype=np.float64)
    if len(errors) == 0 or len(h) != len(errors):
        raise ValueError(f"calibration needs errors, one per h; got {len(errors)} and {len(h)}")
    if h.min() < 1 or h.max() > horizon:
        raise ValueError(f"h must lie in 1..{horizon}, got {h.min()}..{h.max()}")
    scale = _horizon_scale(h, errors, horizon)
    scores = np.sort(_scores(h, errors, scale))
    n = len(scores)
    quantiles = {}
    for level in sorted(levels):
        # The tolerance keeps float error (25 x 0.56 = 14.000000000000002) from adding a rank.
        rank = min(math.ceil((n + 1) * level - 1e-9), n)
        quantiles[level] = float(scores[rank - 1])
    return IntervalCalibration(scale=tuple(float(s) for s in scale), quantiles=quantiles)


def bands(forecast: np.ndarray, h: np.ndarray, calibration: IntervalCalibration,
          series_scale: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """lower_<level> and upper_<level> around each forecast; wider levels contain narrower.
    ``series_scale`` is each row's series level when the calibration was made on errors divided
    by it."""
    forecast = np.asarray(forecast, dtype=np.float64)
    scale = np.asarray(calibration.scale)[np.asarray(h, dtype=np.int64) - 1]
    if series_scale is not None:
        scale = scale * np.asarray(series_scale, dtype=np.float64)
    result = {}
    widest = 0.0
    for level in sorted(calibration.quantiles):
        # A running maximum keeps a higher level's band around a lower one's, whatever the data.
        widest = max(widest, calibration.quantiles[level])
        result[f"lower_{_label(level)}"] = forecast - scale * widest
        result[f"upper_{_label(level)}"] = forecast + scale * widest
    return result


def held_out_bands(fold: np.ndarray, h: np.ndarray, actual: np.ndarray, forecast: np.ndarray,
                   horizon: int, series_scale: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Every row's bands, each fold's calibrated on the other folds' errors only (divided by
    each row's ``series_scale``, its series' level, when given).

    Leave-one-fold-out: a fold's own errors never shape its own interval, so its coverage is
    what a user would see on days the calibration has not seen.
    """
    fold, h = np.asarray(fold), np.asarray(h, dtype=np.int64)
    forecast = np.asarray(forecast, dtype=np.float64)
    scale = (np.ones(len(forecast)) if series_scale is None
             else np.asarray(series_scale, dtype=np.float64))
    errors = (np.asarray(actual, dtype=np.float64) - forecast) / scale
    if len(np.unique(fold)) < 2:
        raise ValueError("held-out intervals need at least 2 folds")
    result: dict[str, np.ndarray] = {}
    for each in np.unique(fold):
        mine = fold == each
        band = bands(forecast[mine], h[mine], calibrate(h[~mine], errors[~mine], horizon),
                     None if series_scale is None else scale[mine])
        for name, values in band.items():
            result.setdefault(name, np.zeros(len(forecast)))[mine] = values
    return result


def held_out_coverage(fold: np.ndarray, h: np.ndarray, actual: np.ndarray,
                      forecast: np.ndarray, horizon: int) -> dict[str, float]:
    """Share of actuals inside their held-out 80% and 95% bands, and the mean 80% width."""
    return band_coverage(actual, held_out_bands(fold, h, actual, forecast, horizon))


def band_coverage(actual: np.ndarray, band: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Share of actuals inside the 80% and 95% bands, and the mean 80% width."""
    actual = np.asarray(actual, dtype=np.float64)
    inside = {label: (np.asarray(band[f"lower_{label}"]) <= actual)
              & (actual <= np.asarray(band[f"upper_{label}"])) for label in ("80", "95")}
    return {
        "coverage_80": float(inside["80"].mean()),
        "coverage_95": float(inside["95"].mean()),
        "interval_width_80": float(np.mean(np.asarray(band["upper_80"])
                                           - np.asarray(band["lower_80"]))),
    }
