"""The names of the features a model derives from a sales table, and the column tests they rest
on: plain pandas, so that checking a user's table needs no sklearn (its import costs a step
that fits nothing ~0.6 s: docs/benchmarks.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd

DAY_OF_WEEK = "date_day_of_week"
MONTH = "date_month"
DAY_OF_YEAR = "date_day_of_year"
TREND = "date_trend"
LAG_PREFIX = "target_lag_"
# The tutorial's lags, in steps back: yesterday and the same weekday last week. A forecaster
# that must not read the target after its origin uses none (grocery/forecaster.py).
TUTORIAL_LAGS = (1, 7)
LAGS = {f"{LAG_PREFIX}{lag}": lag for lag in TUTORIAL_LAGS}
DERIVED = (DAY_OF_WEEK, MONTH, DAY_OF_YEAR, TREND, *LAGS)


def days_since_epoch(dates: pd.Series) -> np.ndarray:
    """Days since the epoch, as integers (a date given as text is parsed)."""
    # No detour through nanoseconds: a million days reach back before 1677.
    return np.asarray(pd.to_datetime(dates).to_numpy()).astype("datetime64[D]").astype(np.int64)


def is_categorical(series: pd.Series) -> bool:
    """A column of strings (or categories): one-hot encoded rather than scaled."""
    return (pd.api.types.is_string_dtype(series) or pd.api.types.is_object_dtype(series)
            or isinstance(series.dtype, pd.CategoricalDtype))
