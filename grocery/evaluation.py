"""A forecaster judged the way it will be used: a rolling-origin backtest against statistical
baselines on the same origins and horizons, with intervals scored on folds that did not
calibrate them.

Pure pandas, scikit-learn and statsmodels: ``train`` logs what this returns, and ``register``'s
champion gate backtests the champion's configuration here on the candidate's folds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from grocery.backtest import min_train_rows, rolling_origin
from grocery.baseline_forecasts import BASELINES
from grocery.config import ModelChoice
from grocery.forecaster import ForecastSpec, fit_forecaster, point_forecast
from grocery.intervals import IntervalCalibration, band_coverage, calibrate, held_out_bands
from grocery.modeling import rmse_to_noise
from grocery.scoring import forecast_metrics, metrics_by_horizon, seasonal_naive_scale


@dataclass(frozen=True)
class Backtest:
    """Every backtest forecast of the model (with held-out bands) and of each baseline, one row
    per (fold, h), and the interval calibration from all folds (the final model's)."""

    forecasts: pd.DataFrame
    baselines: dict[str, pd.DataFrame]
    calibration: IntervalCalibration


def _with_scales(frame: pd.DataFrame, table: pd.DataFrame, spec: ForecastSpec) -> pd.DataFrame:
    """Each row's fold scale: the in-sample seasonal-naive errors of the history before it."""
    scales = {}
    for origin in frame["origin"].unique():
        history = table.loc[table[spec.date_column] <= origin, spec.target].to_numpy()
        scales[origin] = seasonal_naive_scale(history, spec.season)
    return frame.assign(mae_scale=frame["origin"].map(lambda o: scales[o][0]),
                        mse_scale=frame["origin"].map(lambda o: scales[o][1]))


def _backtest(table: pd.DataFrame, spec: ForecastSpec, folds: int, forecast_fn) -> pd.DataFrame:
    frame = rolling_origin(table, spec.horizon, folds, spec.date_column, spec.target,
                           forecast_fn, min_train_rows(spec.season))
    return _with_scales(frame, table, spec)


def model_backtest(choice: ModelChoice, params: dict, table: pd.DataFrame, spec: ForecastSpec,
                   folds: int) -> pd.DataFrame:
    """The model refitted at each origin on the rows before it, forecasting ``horizon`` steps."""
    def forecast(history: pd.DataFrame, future: pd.DataFrame) -> np.ndarray:
        return point_forecast(fit_forecaster(choice, params, history, spec), history, future,
                              spec)

    return _backtest(table, spec, folds, forecast)


def baseline_backtests(table: pd.DataFrame, spec: ForecastSpec,
                       folds: int) -> dict[str, pd.DataFrame]:
    """Each statistical baseline on the same origins and horizons as the model."""
    def runner(baseline):
        def forecast(history: pd.DataFrame, future: pd.DataFrame) -> np.ndarray:
            return baseline(history[spec.target].to_numpy(), len(future), spec.season)
        return forecast

    return {name: _backtest(table, spec, folds, runner(baseline))
            for name, baseline in BASELINES.items()}


def run_backtest(choice: ModelChoice, params: dict, table: pd.DataFrame, spec: ForecastSpec,
                 folds: int) -> Backtest:
    """The model's and the baselines' backtests, the model's held-out bands, and the
    calibration of all folds."""
    frame = model_backtest(choice, params, table, spec, folds)
    errors = frame["actual"] - frame["forecast"]
    if frame["fold"].nunique() > 1:
        bands = held_out_bands(frame["fold"].to_numpy(), frame["h"].to_numpy(),
                               frame["actual"].to_numpy(), frame["forecast"].to_numpy(),
                               spec.horizon)
        frame = frame.assign(**bands)
    calibration = calibrate(frame["h"].to_numpy(), errors.to_numpy(), spec.horizon)
    return Backtest(frame, baseline_backtests(table, spec, folds), calibration)


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
    for name, frame in backtest.baselines.items():
        baseline = scores(frame)
        metrics[f"baseline_{name}_rmse"] = baseline["rmse"]
        metrics[f"baseline_{name}_mase"] = baseline["mase"]
    best = min(metrics[f"baseline_{name}_rmse"] for name in backtest.baselines)
    metrics["improvement_over_baseline"] = 1 - metrics["rmse"] / best if best > 0 else 0.0
    if noise_floor:
        metrics["noise_floor"] = noise_floor
        metrics["rmse_to_noise"] = rmse_to_noise(metrics["rmse"], noise_floor)
    return metrics


def by_horizon(backtest: Backtest) -> dict[str, pd.DataFrame]:
    """rmse and mase per step ahead, for the model (``model``) and each baseline."""
    return {"model": metrics_by_horizon(backtest.forecasts),
            **{name: metrics_by_horizon(frame) for name, frame in backtest.baselines.items()}}
