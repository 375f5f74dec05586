"""A rolling-origin backtest: forecast ``horizon`` steps from several origins.

The origins sit at the end of the data, ``horizon`` steps apart; each forecast is refit on every
row up to its origin (an expanding window) and judged on the next ``horizon`` rows, whose target
it never sees. The folds are scikit-learn's ``TimeSeriesSplit``, not hand-made, over the table's
dates: a table of many series (keyed by ``series`` columns, every series on the same dates) is
cut at the same origins for all of them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from grocery.errors import UserError

ForecastFn = Callable[[pd.DataFrame, pd.DataFrame], np.ndarray]
COLUMNS = ["fold", "origin", "h", "date", "actual", "forecast"]


def min_train_rows(season: int) -> int:
    """Rows before the first origin: two seasons (seasonal features, the seasonal-naive scale)
    and two more weeks."""
    return 2 * season + 14


def check_backtest(horizon: int, folds: int, n_rows: int | None = None,
                   min_train: int = 0) -> None:
    """A UserError unless ``horizon`` and ``folds`` are 1 or more and, when ``n_rows`` is
    given, the rows hold ``min_train`` rows before the first origin plus every fold."""
    for what, value in (("horizon", horizon), ("folds", folds)):
        if value < 1:
            raise UserError(f"{what} must be 1 or more, got {value}")
    needed = min_train + folds * horizon
    if n_rows is not None and n_rows < needed:
        raise UserError(f"the table has {n_rows} rows; horizon {horizon} with {folds} "
                        f"fold{'s' if folds > 1 else ''} needs at least {needed} ({min_train} "
                        f"to train before the first origin + {folds} x {horizon})")


def backtest_origins(n_rows: int, horizon: int, folds: int, min_train: int) -> list[int]:
    """For each fold, in time order, the number of training rows (the origin is the last).

    The last fold's test window ends at the last row; each earlier one ends ``horizon`` rows
    before the next.
    """
    # Lazy: scikit-learn costs ~0.8 s at start-up, which main's parameter checks skip.
    from sklearn.model_selection import TimeSeriesSplit

    check_backtest(horizon, folds, n_rows, min_train)
    # TimeSeriesSplit needs 2 splits or more; one fold is the last of two.
    splitter = TimeSeriesSplit(n_splits=max(folds, 2), test_size=horizon)
    splits = list(splitter.split(np.arange(n_rows)))[-folds:]
    return [len(train) for train, _ in splits]


def _fold_rows(fold: int, origin: pd.Timestamp, window: pd.DataFrame, h: np.ndarray,
               actual: np.ndarray, forecast: np.ndarray, date_column: str,
               series: tuple[str, ...]) -> pd.DataFrame:
    """One row per series and step ahead of one fold."""
    rows = {key: window[key].to_numpy() for key in series}
    rows.update(fold=fold, origin=origin, h=h, date=window[date_column].to_numpy(),
                actual=actual, forecast=forecast)
    return pd.DataFrame(rows)


def rolling_origin(frame: pd.DataFrame, horizon: int, folds: int, date_column: str, target: str,
                   forecast_fn: ForecastFn, min_train: int,
                   series: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per (series, fold, h): the series key, fold (from 1), origin, h, date, actual and
    forecast.

    ``forecast_fn(history, future)`` gets the rows up to the origin and the next ``horizon``
    dates' rows without the target column (each series' rows in date order), so no forecaster
    can read a target after its origin; it returns one forecast per future row.
    """
    ordered = frame.sort_values([*series, date_column], kind="stable").reset_index(drop=True)
    days = ordered[date_column].to_numpy()
    dates = np.unique(days)
    pieces = []
    for fold, train_rows in enumerate(backtest_origins(len(dates), horizon, folds, min_train),
                                      start=1):
        origin, last = dates[train_rows - 1], dates[min(train_rows + horizon, len(dates)) - 1]
        past = days <= origin
        history = ordered[past].copy()
        window = ordered[~past & (days <= last)]
        future = window.drop(columns=[target])
        forecast = np.asarray(forecast_fn(history, future.copy()), dtype=np.float64).ravel()
        if len(forecast) != len(window):
            raise ValueError(f"forecast_fn returned {len(forecast)} values for {len(window)} "
                             "future rows")
        h = np.searchsorted(dates[train_rows:], window[date_column].to_numpy()) + 1
        actual = window[target].to_numpy(dtype=np.float64)
        pieces.append(_fold_rows(fold, pd.Timestamp(origin), window, h, actual, forecast,
                                 date_column, series))
    return pd.concat(pieces, ignore_index=True)[[*series, *COLUMNS]]
