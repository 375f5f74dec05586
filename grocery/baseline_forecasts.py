"""Statistical forecasts a model must beat, ``horizon`` steps after the end of one history.

Naive, seasonal naive and exponential smoothing were hard to beat in the M5 competition; a
model that does not beat them on the same backtest is not worth its complexity. Each is a
function (history, horizon, season) -> forecasts for steps 1..horizon.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

Baseline = Callable[[np.ndarray, int, int], np.ndarray]


def _values(history: np.ndarray) -> np.ndarray:
    values = np.asarray(history, dtype=np.float64)
    if len(values) == 0:
        raise ValueError("a forecast needs at least one value of history")
    return values


def naive(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """The last value, at every step: the forecast of a random walk."""
    return np.full(horizon, _values(history)[-1])


def seasonal_naive(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """The value one season before each step: y[n - season + ((h - 1) % season)] for h = 1.."""
    values = _values(history)
    if len(values) < season:
        raise ValueError(f"a seasonal naive forecast needs one season ({season}) of history, "
                         f"got {len(values)}")
    steps = np.arange(horizon) % season
    return values[len(values) - season + steps]


def ets(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Exponential smoothing: additive error, additive damped trend, additive season.

    The season is fitted only on at least two full seasons of history (fewer cannot tell a
    season from noise). The fit is a deterministic optimisation; its convergence warnings are
    silenced here only.
    """
    values = _values(history)
    seasonal = len(values) >= 2 * season and season > 1
    model = ETSModel(values, error="add", trend="add", damped_trend=True,
                     seasonal="add" if seasonal else None,
                     seasonal_periods=season if seasonal else None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = model.fit(disp=False)
        return np.asarray(fitted.forecast(horizon), dtype=np.float64)


BASELINES: dict[str, Baseline] = {"naive": naive, "seasonal_naive": seasonal_naive, "ets": ets}
