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

A table of many series (``series`` names their key columns) gets one global model across them
(``series_model`` ``global``: the target divided by each series' level, the level's log a
feature; grocery/series.py) or one model per series (``per_series``: a dict of models by series
label), fitted chunk by chunk through a ``Mapper`` (grocery/engines.py spreads the chunks).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from grocery.config import ModelChoice
from grocery.errors import UserError
from grocery.intervals import IntervalCalibration, bands
from grocery.modeling import build_model
from grocery.names import DIRECT, GLOBAL, SERIES_MODELS
from grocery.series import (
    LEVEL,
    SERIES_LEVEL,
    chunks_of_series,
    series_labels,
    series_levels,
    series_positions,
    with_levels,
    with_total,
)

FORECAST = "forecast"
OUTPUT_COLUMNS = (FORECAST, "lower_80", "upper_80", "lower_95", "upper_95")
# Runs a function over a list of arguments (each one chunk of work); grocery/engines.py's
# map_chunks, or in_process.
Mapper = Callable[[Callable[[Any], Any], Sequence[Any]], list]
Model = Pipeline | dict[str, Pipeline]  # one fitted model, or one per series label
CHUNKS = 16  # per-series work is cut into this many chunks of whole series


def in_process(fn: Callable[[Any], Any], arguments: Sequence[Any]) -> list:
    """Each argument through ``fn`` here, in order: the mapper of a single series."""
    return [fn(argument) for argument in arguments]


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
    series_model: str = GLOBAL

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


def check_series_model(spec: ForecastSpec) -> None:
    """A UserError unless the spec's series model is known and fits its strategy."""
    if spec.series_model not in SERIES_MODELS:
        raise UserError(f"unknown series_model {spec.series_model!r}; valid: "
                        f"{', '.join(SERIES_MODELS)}")
    if spec.series and spec.series_model == GLOBAL and spec.lags:
        raise UserError("the recursive strategy feeds one series' forecasts forward: use "
                        "series_model=per_series for a table of many series")


def _fit_one(choice: ModelChoice, params: dict, history: pd.DataFrame,
             spec: ForecastSpec) -> Pipeline:
    frame = history[[*spec.inputs, spec.target]]
    model = build_model(choice, params, frame, spec.target, spec.date_column, spec.lags,
                        spec.step_days)
    return model.fit(frame, frame[spec.target])


def _fit_global(choice: ModelChoice, params: dict, history: pd.DataFrame,
                spec: ForecastSpec) -> Pipeline:
    """One model across every series, on the target divided by its series' level."""
    levels = series_levels(history, spec.series, spec.target, spec.season)
    frame = with_levels(history[[*spec.series, *spec.inputs, spec.target]], levels, spec.series)
    frame[spec.target] = frame[spec.target] / frame[LEVEL]
    frame = frame[[*spec.inputs, SERIES_LEVEL, spec.target]]
    model = build_model(choice, params, frame, spec.target, spec.date_column, (),
                        spec.step_days)
    return model.fit(frame, frame[spec.target])


def _fit_chunk(choice: ModelChoice, params: dict, spec: ForecastSpec,
               chunk: pd.DataFrame) -> dict[str, Pipeline]:
    """One model per series of ``chunk``, by series label (a chunk's work in a worker)."""
    single = replace(spec, series=())
    labels = series_labels(chunk, spec.series)
    return {label: _fit_one(choice, params, rows, single)
            for label, rows in chunk.groupby(labels, sort=True)}


def fit_forecaster(choice: ModelChoice, params: dict, history: pd.DataFrame,
                   spec: ForecastSpec, mapper: Mapper = in_process) -> Model:
    """The catalog's estimator behind the feature steps, fitted on ``history``'s known columns:
    one model, one across every series, or one per series (chunks through ``mapper``)."""
    if not spec.series:
        return _fit_one(choice, params, history, spec)
    check_series_model(spec)
    if spec.series_model == GLOBAL:
        return _fit_global(choice, params, history, spec)
    fitted: dict[str, Pipeline] = {}
    for part in mapper(partial(_fit_chunk, choice, params, spec),
                       chunks_of_series(history, spec.series, CHUNKS)):
        fitted.update(part)
    return fitted


def _forecast_one(model: Pipeline, history: pd.DataFrame, future: pd.DataFrame,
                  spec: ForecastSpec) -> np.ndarray:
    """One forecast per future row of one series (in date order); recursive models feed each
    one forward."""
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


def _forecast_per_series(models: dict[str, Pipeline], history: pd.DataFrame,
                         future: pd.DataFrame, spec: ForecastSpec) -> np.ndarray:
    single = replace(spec, series=())
    past = dict(list(history.groupby(series_labels(history, spec.series), sort=False)))
    result = np.empty(len(future))
    for label, rows in series_positions(future, spec.series).items():
        if label not in models or label not in past:
            raise UserError(f"series {label} has no model or no history rows: the model knows "
                            f"{len(models)} series; give each one's days up to the origin")
        result[rows] = _forecast_one(models[label], past[label], future.iloc[rows], single)
    return result


def point_forecast(model: Model, history: pd.DataFrame, future: pd.DataFrame,
                   spec: ForecastSpec) -> np.ndarray:
    """One forecast per future row, in ``future``'s order (rows of a series in date order)."""
    if not spec.series:
        return _forecast_one(model, history, future, spec)
    if isinstance(model, dict):
        return _forecast_per_series(model, history, future, spec)
    levels = series_levels(history, spec.series, spec.target, spec.season)
    inputs = with_levels(future, levels, spec.series)
    scaled = model.predict(inputs[[*spec.inputs, SERIES_LEVEL]])
    return np.asarray(scaled, dtype=np.float64) * inputs[LEVEL].to_numpy(dtype=np.float64)


def forecast_levels(history: pd.DataFrame, future: pd.DataFrame,
                    spec: ForecastSpec) -> np.ndarray | None:
    """Each future row's series level at the origin (the bands' scale), or None for one
    series."""
    if not spec.series:
        return None
    levels = series_levels(history, spec.series, spec.target, spec.season)
    return with_levels(future, levels, spec.series)[LEVEL].to_numpy(dtype=np.float64)


def _dates(table: pd.DataFrame, spec: ForecastSpec) -> pd.Series:
    try:
        return pd.to_datetime(table[spec.date_column], format="ISO8601")
    except (ValueError, TypeError):
        raise UserError(f"date column {spec.date_column!r} holds values that are not "
                        "dates") from None


def _check_columns(table: pd.DataFrame, spec: ForecastSpec) -> None:
    missing = [c for c in (*spec.series, *spec.inputs) if c not in table.columns]
    if missing:
        raise UserError(f"the input lacks column{'s' if len(missing) > 1 else ''} "
                        f"{', '.join(missing)} (a forecast needs the date and every known-ahead "
                        f"column: {', '.join((*spec.series, *spec.inputs))})")


def split_history_future(table: pd.DataFrame,
                         spec: ForecastSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(history up to the origin, the rows to forecast), in date order, or a UserError."""
    _check_columns(table, spec)
    frame = table.assign(**{spec.date_column: _dates(table, spec)})
    frame = frame.sort_values([*spec.series, spec.date_column], kind="stable")
    frame = frame.reset_index(drop=True)
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
            first = future.iloc[[int(np.argmax(gaps))]]
            day = first[spec.date_column].iloc[0].date()
            of = f" of series {series_labels(first, spec.series).iloc[0]}" if spec.series else ""
            raise UserError(f"future row {day}{of} has no value for known-ahead column "
                            f"{column!r}: a forecast needs every known-ahead value of the days "
                            "it forecasts")


def steps_ahead(dates: pd.Series, origin: pd.Timestamp, spec: ForecastSpec) -> np.ndarray:
    """How many steps after ``origin`` each date is (1 = the first day or week after it)."""
    days = (pd.to_datetime(dates) - origin).dt.days.to_numpy()
    return np.maximum(1, np.ceil(days / spec.step_days).astype(np.int64))


def forecast_table(model: Model, calibration: IntervalCalibration, spec: ForecastSpec,
                   table: pd.DataFrame) -> pd.DataFrame:
    """For each future row of ``table``: its series key, date, forecast, lower_80, upper_80,
    lower_95, upper_95; with many series, then per day their bottom-up total (series
    ``total``, its forecast the sum of theirs)."""
    history, future = split_history_future(table, spec)
    origin = history[spec.date_column].max()
    forecast = point_forecast(model, history, future, spec)
    band = bands(forecast, steps_ahead(future[spec.date_column], origin, spec), calibration,
                 forecast_levels(history, future, spec))
    result = future[[*spec.series, spec.date_column]].reset_index(drop=True)
    result[FORECAST] = forecast
    for column in OUTPUT_COLUMNS[1:]:
        result[column] = band[column]
    if spec.series:
        return with_total(result, spec.series, spec.date_column, [FORECAST])
    return result
