"""Accuracy of backtest forecasts: absolute, squared and scale-free errors, overall and per h.

MASE and RMSSE divide the forecast error by the in-sample error of the seasonal naive forecast
(Hyndman & Koehler 2006; the M5 competition's RMSSE), so products of very different volume are
compared on one scale, and a value below 1 beats repeating last season.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score


def seasonal_naive_scale(history: np.ndarray, season: int) -> tuple[float, float]:
    """In-sample (mean absolute, mean squared) error of y[t] = y[t - season] over ``history``.

    A history too short for one season falls back to season 1 (the naive forecast).
    """
    values = np.asarray(history, dtype=np.float64)
    lag = season if len(values) >= season + 1 else 1
    if len(values) < lag + 1:
        raise ValueError(f"a scale needs at least 2 values of history, got {len(values)}")
    actual, previous = values[lag:], values[:-lag]
    return (float(mean_absolute_error(actual, previous)),
            float(mean_squared_error(actual, previous)))


def _ratio(value: float, scale: float) -> float:
    """``value / scale``, or NaN for a zero scale (a constant history has no scale)."""
    return value / scale if scale > 0 else math.nan


def forecast_metrics(actual: np.ndarray, forecast: np.ndarray, mae_scale: float,
                     mse_scale: float) -> dict[str, float]:
    """mae, mse, rmse, r2, mase (mae / mae_scale) and rmsse (sqrt(mse / mse_scale))."""
    actual = np.asarray(actual, dtype=np.float64)
    forecast = np.asarray(forecast, dtype=np.float64)
    mae = float(mean_absolute_error(actual, forecast))
    mse = float(mean_squared_error(actual, forecast))
    # r2 needs a spread of actuals: undefined for one forecast.
    r2 = float(r2_score(actual, forecast)) if len(actual) > 1 else math.nan
    return {
        "mae": mae,
        "mse": mse,
        "rmse": math.sqrt(mse),
        "r2": r2,
        "mase": _ratio(mae, mae_scale),
        "rmsse": math.sqrt(_ratio(mse, mse_scale)),
    }


def metrics_by_horizon(frame: pd.DataFrame) -> pd.DataFrame:
    """rmse and mase for each step ahead h, over the folds (each row scaled by its fold's scale).

    ``frame`` has columns h, actual, forecast and mae_scale; error grows with h, and an average
    over h hides it.
    """
    rows = {}
    for h, group in frame.groupby("h", sort=True):
        actual = group["actual"].to_numpy(dtype=np.float64)
        forecast = group["forecast"].to_numpy(dtype=np.float64)
        scale = group["mae_scale"].to_numpy(dtype=np.float64)
        # MAE of scaled values is the mean of |error| / scale, each row by its own fold's scale.
        mase = (float(mean_absolute_error(actual / scale, forecast / scale)) if (scale > 0).all()
                else math.nan)
        rows[h] = {"rmse": math.sqrt(mean_squared_error(actual, forecast)), "mase": mase}
    result = pd.DataFrame.from_dict(rows, orient="index", columns=["rmse", "mase"])
    result.index.name = "h"
    return result
