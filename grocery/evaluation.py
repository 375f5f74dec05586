"""A forecaster judged the way it will be used: a rolling-origin backtest against statistical
baselines on the same origins and horizons, with intervals scored on folds that did not
calibrate them.

Pure pandas, scikit-learn and statsmodels: ``train`` logs what this returns, and ``register``'s
champion gate backtests the champion's configuration here on the candidate's folds. A table of
many series is backtested the same way, at the same origins for every series: each series'
rows are scaled by its own history, intervals by its level, and per-series work (per-series
models, exponential smoothing) runs chunk by chunk through a ``Mapper``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import partial

import numpy as np
import pandas as pd

from grocery.backtest import min_train_rows, rolling_origin
from grocery.baseline_forecasts import BASELINES, Baseline
from grocery.config import ModelChoice
from grocery.forecaster import (
    CHUNKS,
    ForecastSpec,
    Mapper,
    fit_forecaster,
    in_process,
    point_forecast,
)
from grocery.intervals import IntervalCalibration, band_coverage, calibrate, held_out_bands
from grocery.modeling import rmse_to_noise
from grocery.scoring import forecast_metrics, metrics_by_horizon, seasonal_naive_scale
from grocery.series import (
    LEVEL,
    chunks_of_series,
    per_series_scores,
    series_labels,
    series_levels,
    series_positions,
    summary_metrics,
    totals,
)

# Exponential smoothing costs ~50 ms a fit: a product of more series than this scores it on
# this many, evenly spaced (the other baselines and the model score every series).
ETS_MAX_SERIES = 300


@dataclass(frozen=True)
class Backtest:
    """Every backtest forecast of the model (with held-out bands) and of each baseline, one row
    per (series, fold, h), the interval calibration from all folds (the final model's), and the
    series key columns (empty: one series)."""

    forecasts: pd.DataFrame
    baselines: dict[str, pd.DataFrame]
    calibration: IntervalCalibration
    series: tuple[str, ...] = ()


def _with_scales(frame: pd.DataFrame, table: pd.DataFrame, spec: ForecastSpec) -> pd.DataFrame:
    """Each row's fold scale: the in-sample seasonal-naive errors of the history before it."""
    if spec.series:
        return _with_series_scales(frame, table, spec)
    scales = {}
    for origin in frame["origin"].unique():
        history = table.loc[table[spec.date_column] <= origin, spec.target].to_numpy()
        scales[origin] = seasonal_naive_scale(history, spec.season)
    return frame.assign(mae_scale=frame["origin"].map(lambda o: scales[o][0]),
                        mse_scale=frame["origin"].map(lambda o: scales[o][1]))


def _with_series_scales(frame: pd.DataFrame, table: pd.DataFrame,
                        spec: ForecastSpec) -> pd.DataFrame:
    """Per series and origin: the seasonal-naive scales and the level of its history."""
    keys = list(spec.series)
    ordered = table.sort_values([*keys, spec.date_column], kind="stable")
    pieces = []
    for origin in frame["origin"].unique():
        history = ordered[ordered[spec.date_column] <= origin]
        change = history.groupby(keys, sort=True)[spec.target].diff(spec.season)
        errors = pd.DataFrame({"mae_scale": change.abs(), "mse_scale": change**2})
        scale = errors.groupby([history[k] for k in keys], sort=True).mean().reset_index()
        levels = series_levels(history, spec.series, spec.target, spec.season)
        pieces.append(scale.merge(levels, on=keys).assign(origin=origin))
    return frame.merge(pd.concat(pieces, ignore_index=True), on=[*keys, "origin"], how="left")


def _backtest(table: pd.DataFrame, spec: ForecastSpec, folds: int, forecast_fn) -> pd.DataFrame:
    frame = rolling_origin(table, spec.horizon, folds, spec.date_column, spec.target,
                           forecast_fn, min_train_rows(spec.season), spec.series)
    return _with_scales(frame, table, spec)


def model_backtest(choice: ModelChoice, params: dict, table: pd.DataFrame, spec: ForecastSpec,
                   folds: int, mapper: Mapper = in_process) -> pd.DataFrame:
    """The model refitted at each origin on the rows before it, forecasting ``horizon`` steps."""
    def forecast(history: pd.DataFrame, future: pd.DataFrame) -> np.ndarray:
        model = fit_forecaster(choice, params, history, spec, mapper)
        return point_forecast(model, history, future, spec)

    return _backtest(table, spec, folds, forecast)


def _baseline_one(baseline: Baseline, history: pd.DataFrame, future: pd.DataFrame,
                  spec: ForecastSpec) -> np.ndarray:
    """``baseline`` for each series of ``future`` (rows of a series in date order) from its
    history."""
    if not spec.series:
        return baseline(history[spec.target].to_numpy(), len(future), spec.season)
    past = history.groupby(series_labels(history, spec.series), sort=False)[spec.target]
    values = {label: rows.to_numpy() for label, rows in past}
    result = np.empty(len(future))
    for label, rows in series_positions(future, spec.series).items():
        result[rows] = baseline(values[label], len(rows), spec.season)
    return result


def _baseline_chunk(baseline: Baseline, spec: ForecastSpec,
                    pair: tuple[pd.DataFrame, pd.DataFrame]) -> np.ndarray:
    return _baseline_one(baseline, *pair, spec)


def _baseline_forecast(baseline: Baseline, spec: ForecastSpec, mapper: Mapper):
    """A backtest's forecast function for ``baseline``, per series in chunks through
    ``mapper``."""
    def forecast(history: pd.DataFrame, future: pd.DataFrame) -> np.ndarray:
        if not spec.series:
            return _baseline_one(baseline, history, future, spec)
        # Every series has rows on every date (a balanced table): both sides cut the same.
        pairs = list(zip(chunks_of_series(history, spec.series, CHUNKS),
                         chunks_of_series(future, spec.series, CHUNKS), strict=True))
        return np.concatenate(mapper(partial(_baseline_chunk, baseline, spec), pairs))
    return forecast


def ets_sample(table: pd.DataFrame, spec: ForecastSpec) -> pd.DataFrame:
    """The rows exponential smoothing is scored on: every series, or ETS_MAX_SERIES of them
    evenly spaced in label order."""
    if not spec.series:
        return table
    labels = series_labels(table, spec.series)
    unique = np.sort(labels.unique())
    if len(unique) <= ETS_MAX_SERIES:
        return table
    chosen = unique[np.linspace(0, len(unique) - 1, ETS_MAX_SERIES).round().astype(int)]
    return table[labels.isin(chosen).to_numpy()]


def baseline_backtests(table: pd.DataFrame, spec: ForecastSpec, folds: int,
                       mapper: Mapper = in_process) -> dict[str, pd.DataFrame]:
    """Each statistical baseline on the same origins and horizons as the model (ETS on
    ``ets_sample``'s series), exponential smoothing's chunks through ``mapper``."""
    return {name: _backtest(ets_sample(table, spec) if name == "ets" else table, spec, folds,
                            _baseline_forecast(baseline, spec,
                                               mapper if name == "ets" else in_process))
            for name, baseline in BASELINES.items()}


def run_backtest(choice: ModelChoice, params: dict, table: pd.DataFrame, spec: ForecastSpec,
                 folds: int, mapper: Mapper = in_process) -> Backtest:
    """The model's and the baselines' backtests, the model's held-out bands, and the
    calibration of all folds (errors divided by their series' level when there are many)."""
    frame = model_backtest(choice, params, table, spec, folds, mapper)
    level = frame[LEVEL].to_numpy() if spec.series else None
    errors = (frame["actual"] - frame["forecast"]).to_numpy()
    if frame["fold"].nunique() > 1:
        bands = held_out_bands(frame["fold"].to_numpy(), frame["h"].to_numpy(),
                               frame["actual"].to_numpy(), frame["forecast"].to_numpy(),
                               spec.horizon, level)
        frame = frame.assign(**bands)
    calibration = calibrate(frame["h"].to_numpy(),
                            errors if level is None else errors / level, spec.horizon)
    return Backtest(frame, baseline_backtests(table, spec, folds, mapper), calibration,
                    spec.series)


def scores(frame: pd.DataFrame) -> dict[str, float]:
    """mae, mse, rmse, r2, and MASE and RMSSE with each row scaled by its own fold's scale."""
    actual, forecast = frame["actual"].to_numpy(), frame["forecast"].to_numpy()
    metrics = forecast_metrics(actual, forecast, 1.0, 1.0)
    error = actual - forecast
    mae_scale, mse_scale = frame["mae_scale"].to_numpy(), frame["mse_scale"].to_numpy()
    valid = (mae_scale > 0).all() and (mse_scale > 0).all()
    metrics["mase"] = float(np.mean(np.abs(error) / mae_scale)) if valid else math.nan
    metrics["rmsse"] = float(np.sqrt(np.mean(error**2 / mse_scale))) if valid else math.nan
    return metrics


def coverage(frame: pd.DataFrame) -> dict[str, float]:
    """Share of actuals inside their held-out 80% and 95% bands, and the mean 80% width."""
    if "lower_80" not in frame:
        return {}  # one fold: no fold is left to score a calibration on
    return band_coverage(frame["actual"].to_numpy(), frame)


def backtest_metrics(backtest: Backtest, noise_floor: float | None = None) -> dict[str, float]:
    """Everything a train run logs as single numbers: the model's scores and coverage, each
    baseline's rmse and mase, the improvement over the best baseline, and the noise floor."""
    metrics = {**scores(backtest.forecasts), **coverage(backtest.forecasts)}
    ratios = []
    for name, frame in backtest.baselines.items():
        baseline = scores(frame)
        metrics[f"baseline_{name}_rmse"] = baseline["rmse"]
        metrics[f"baseline_{name}_mase"] = baseline["mase"]
        if baseline["rmse"] > 0:
            ratios.append(_model_rmse_on(backtest, frame) / baseline["rmse"])
    metrics["improvement_over_baseline"] = 1 - max(ratios) if ratios else 0.0
    if noise_floor:
        metrics["noise_floor"] = noise_floor
        metrics["rmse_to_noise"] = rmse_to_noise(metrics["rmse"], noise_floor)
    return metrics


def _model_rmse_on(backtest: Backtest, baseline: pd.DataFrame) -> float:
    """The model's rmse on the series a baseline was scored on (all of them, or ETS's
    sample)."""
    frame = backtest.forecasts
    if backtest.series and len(baseline) < len(frame):
        keys = list(backtest.series)
        frame = frame.merge(baseline[keys].drop_duplicates(), on=keys)
    return math.sqrt(float(np.mean((frame["actual"] - frame["forecast"]) ** 2)))


def daily_total(table: pd.DataFrame, spec: ForecastSpec) -> pd.DataFrame:
    """The target summed over every series, per day (date, target)."""
    return table.groupby(spec.date_column, as_index=False, sort=True)[spec.target].sum()


def total_backtest(backtest: Backtest, table: pd.DataFrame, spec: ForecastSpec) -> pd.DataFrame:
    """The bottom-up total's backtest (every series summed per fold and day), scaled by the
    total's own history: what the chain as a whole was forecast to sell."""
    return _with_scales(totals(backtest.forecasts), daily_total(table, spec),
                        replace(spec, series=()))


def summed_scores(histories: list[pd.DataFrame], backtests: list[pd.DataFrame],
                  season: int) -> dict[str, float]:
    """rmse, mae and MASE of a bottom-up sum of totals (a department's products): their daily
    histories (date, actual) and backtests (fold, origin, h, date, actual, forecast) added up
    day by day, the MASE scaled by the summed history."""
    history = pd.concat(histories).groupby("date", as_index=False, sort=True)["actual"].sum()
    backtest = totals(pd.concat(backtests, ignore_index=True))
    spec = ForecastSpec("actual", "date", (), season, 1, int(backtest["h"].max()))
    result = scores(_with_scales(backtest, history, spec))
    return {name: result[name] for name in ("rmse", "mae", "mase")}


def series_metrics(backtest: Backtest, table: pd.DataFrame,
                   spec: ForecastSpec) -> tuple[pd.DataFrame | None, dict[str, float]]:
    """Each series' scores (one row per series), and as run metrics their summary and the
    bottom-up total's rmse, mae and MASE (``total_*``); nothing for one series."""
    if not spec.series:
        return None, {}
    per_series = per_series_scores(backtest.forecasts, spec.series)
    total = scores(total_backtest(backtest, table, spec))
    return per_series, {**summary_metrics(per_series),
                        **{f"total_{name}": total[name] for name in ("rmse", "mae", "mase")}}


def by_horizon(backtest: Backtest) -> dict[str, pd.DataFrame]:
    """rmse and mase per step ahead, for the model (``model``) and each baseline."""
    return {"model": metrics_by_horizon(backtest.forecasts),
            **{name: metrics_by_horizon(frame) for name, frame in backtest.baselines.items()}}
