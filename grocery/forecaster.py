"""Forecasts of the steps after a forecast origin, using only what is known at the origin.

A forecaster takes one table: history rows (date, target, other columns) up to the origin, the
last day with a known target, then future rows (date and the known-ahead columns; target and
observed columns empty). It reads the date, the known-ahead columns (planned prices,
promotions, calendar facts) and the target up to the origin; observed columns (weather) and any
value after the origin never reach its estimator. Two strategies (catalog.yaml
``forecast_strategy``, chosen by measurement in docs/benchmarks.md):

- ``direct``: no target lags; each step is forecast from its own known-ahead values and calendar,
  the same way at every horizon.
- ``recursive``: the target's lags 1 and one season; each step's forecast is the next step's lag.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from grocery.config import ModelChoice
from grocery.errors import UserError
from grocery.intervals import IntervalCalibration, bands
from grocery.modeling import build_model
from grocery.names import DIRECT

FORECAST = "forecast"
OUTPUT_COLUMNS = (FORECAST, "lower_80", "upper_80", "lower_95", "upper_95")


@dataclass(frozen=True)
class ForecastSpec:
    """What a forecaster reads and how far it forecasts. ``series`` names the key columns of a
    table holding several series (empty: one series)."""

    target: str
    date_column: str
    known_ahead: tuple[str, ...]
    season: int
    step_days: int
    horizon: int
    strategy: str = DIRECT
    series: tuple[str, ...] = ()

    @property
    def lags(self) -> tuple[int, ...]:
        return () if self.strategy == DIRECT else (1, self.season)

    @property
    def inputs(self) -> list[str]:
        """The columns the estimator reads besides the target."""
        return [self.date_column, *self.known_ahead]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> ForecastSpec:
        tuples = ("known_ahead", "series")
        return cls(**{k: tuple(v) if k in tuples else v for k, v in values.items()})


def fit_forecaster(choice: ModelChoice, params: dict, history: pd.DataFrame,
                   spec: ForecastSpec) -> Pipeline:
    """The catalog's estimator behind the feature steps, fitted on ``history``'s known columns."""
    frame = history[[*spec.inputs, spec.target]]
    model = build_model(choice, params, frame, spec.target, spec.date_column, spec.lags,
                        spec.step_days)
    return model.fit(frame, frame[spec.target])


def point_forecast(model: Pipeline, history: pd.DataFrame, future: pd.DataFrame,
                   spec: ForecastSpec) -> np.ndarray:
    """One forecast per future row (in date order); recursive models feed each one forward."""
    inputs = future[spec.inputs]
    if not spec.lags:
        return np.asarray(model.predict(inputs), dtype=np.float64)
    depth = max(spec.lags)
    known = history[[*spec.inputs, spec.target]].tail(depth)
    forecasts = []
    for position in range(len(inputs)):
        row = inputs.iloc[[position]].assign(**{spec.target: np.nan})
        value = float(model.predict(pd.concat([known, row], ignore_index=True))[-1])
        forecasts.append(value)
        row[spec.target] = value
        known = pd.concat([known, row], ignore_index=True).tail(depth)
    return np.asarray(forecasts)


def _dates(table: pd.DataFrame, spec: ForecastSpec) -> pd.Series:
    try:
        return pd.to_datetime(table[spec.date_column], format="ISO8601")
    except (ValueError, TypeError):
        raise UserError(f"date column {spec.date_column!r} holds values that are not "
                        "dates") from None


def _check_columns(table: pd.DataFrame, spec: ForecastSpec) -> None:
    missing = [c for c in spec.inputs if c not in table.columns]
    if missing:
        raise UserError(f"the input lacks column{'s' if len(missing) > 1 else ''} "
                        f"{', '.join(missing)} (a forecast needs the date and every known-ahead "
                        f"column: {', '.join(spec.inputs)})")


def split_history_future(table: pd.DataFrame,
                         spec: ForecastSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(history up to the origin, the rows to forecast), in date order, or a UserError."""
    _check_columns(table, spec)
    frame = table.assign(**{spec.date_column: _dates(table, spec)})
    frame = frame.sort_values(spec.date_column, kind="stable").reset_index(drop=True)
    target = (pd.to_numeric(frame[spec.target], errors="coerce") if spec.target in frame
              else pd.Series(np.nan, index=frame.index))
    if not target.notna().any():
        raise UserError(f"the input has no history rows: give the days up to the forecast "
                        f"origin with their {spec.target}, then the days to forecast without it")
    origin = frame.loc[target.notna(), spec.date_column].max()
    history = frame[frame[spec.date_column] <= origin].assign(**{spec.target: target})
    future = frame[frame[spec.date_column] > origin].drop(columns=[spec.target], errors="ignore")
    _check_future(future, origin, spec)
    return history, future


def _check_future(future: pd.DataFrame, origin: pd.Timestamp, spec: ForecastSpec) -> None:
    if future.empty:
        raise UserError(f"the input has no rows to forecast: add the days after {origin.date()} "
                        f"with {', '.join(spec.inputs)} and an empty {spec.target}")
    steps = steps_ahead(future[spec.date_column], origin, spec)
    if steps.max() > spec.horizon:
        raise UserError(f"the model forecasts at most {spec.horizon} steps after the origin "
                        f"{origin.date()}; the input reaches {steps.max()} steps")
    for column in spec.known_ahead:
        gaps = future[column].isna().to_numpy()
        if gaps.any():
            day = future[spec.date_column].iloc[int(np.argmax(gaps))].date()
            raise UserError(f"future row {day} has no value for known-ahead column {column!r}: "
                            "a forecast needs every known-ahead value of the days it forecasts")


def steps_ahead(dates: pd.Series, origin: pd.Timestamp, spec: ForecastSpec) -> np.ndarray:
    """How many steps after ``origin`` each date is (1 = the first day or week after it)."""
    days = (pd.to_datetime(dates) - origin).dt.days.to_numpy()
    return np.maximum(1, np.ceil(days / spec.step_days).astype(np.int64))


def forecast_table(model: Pipeline, calibration: IntervalCalibration, spec: ForecastSpec,
                   table: pd.DataFrame) -> pd.DataFrame:
    """For each future row of ``table``: date, forecast, lower_80, upper_80, lower_95, upper_95."""
    history, future = split_history_future(table, spec)
    origin = history[spec.date_column].max()
    forecast = point_forecast(model, history, future, spec)
    band = bands(forecast, steps_ahead(future[spec.date_column], origin, spec), calibration)
    result = future[[*spec.series, spec.date_column]].reset_index(drop=True)
    result[FORECAST] = forecast
    for column in OUTPUT_COLUMNS[1:]:
        result[column] = band[column]
    return result
