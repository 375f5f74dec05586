"""Training one forecaster on prepared data: judge it by a rolling-origin backtest against the
statistical baselines, fit it on all the data, and log its metrics, pictures and the model.

``forecast_spec`` and ``tutorial_metrics`` are pure; the ``log_*`` functions
write to the active run.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import pandas as pd
from mlflow.data.dataset import Dataset
from mlflow.entities import Metric, Run

from grocery import plots
from grocery.config import ModelChoice, Product
from grocery.evaluation import Backtest, by_horizon, daily_total, total_backtest
from grocery.features import ESTIMATOR_STEP
from grocery.forecaster import ForecastSpec
from grocery.modeling import build_model, regression_metrics
from grocery.names import (
    BACKTEST_PREFIX,
    GLOBAL,
    TAG_DATA_DIGEST,
    TAG_DATE_COLUMN,
    TAG_DEPARTMENT,
    TAG_EVALUATION,
    TAG_FORECAST_STRATEGY,
    TAG_HYPERPARAMETERS,
    TAG_MODEL_FAMILY,
    TAG_PREPARE_RUN,
    TAG_PRODUCT,
    TAG_SERIES,
    TAG_SERIES_MODEL,
    TAG_TARGET,
)
from grocery.prepared import PreparedData
from grocery.series import ACTUAL
from grocery.tracking import log_folder

PLOTS_DIR = "evaluation"
# Under PLOTS_DIR, for many series: one row per series; the bottom-up total's daily history
# (date, actual) and its backtest (TOTAL_COLUMNS).
SERIES_SCORES_FILE = "series_scores.parquet"
TOTAL_HISTORY_FILE = "total_history.parquet"
TOTAL_BACKTEST_FILE = "total_backtest.parquet"
TOTAL_COLUMNS = ("fold", "origin", "h", "date", "actual", "forecast")
BACKTEST = "rolling-origin backtest (ex-ante)"
TUTORIAL = "the tutorial's random split (ex-post), with the backtest's scores as backtest_*"
# The tutorial's four metrics: on a random split they keep their names (the tutorial's scores)
# and the backtest's own are logged with this prefix.
TUTORIAL_METRICS = ("mae", "mse", "rmse", "r2")


def forecast_spec(prepared: PreparedData, strategy: str,
                  series_model: str = GLOBAL) -> ForecastSpec:
    """What a forecaster of this prepared data reads, how far it forecasts, and how it models
    the data's series."""
    return ForecastSpec(target=prepared.target, date_column=prepared.date_column,
                        known_ahead=tuple(prepared.known_ahead), season=prepared.season,
                        step_days=prepared.step_days, horizon=prepared.horizon,
                        strategy=strategy, series=tuple(prepared.series),
                        series_model=series_model)


def run_tags(product: Product, prepared: PreparedData, choice: ModelChoice,
             hyperparameters: dict, spec: ForecastSpec) -> dict[str, str]:
    """A train run's tags: its product, its prepared data, its model and how it was judged."""
    return {
        TAG_SERIES: ", ".join(spec.series) or "-",
        TAG_SERIES_MODEL: spec.series_model,
        TAG_PRODUCT: product.name,
        TAG_DEPARTMENT: product.department,
        TAG_PREPARE_RUN: prepared.prepare_run_id,
        TAG_DATA_DIGEST: prepared.data_digest,
        TAG_MODEL_FAMILY: choice.family,
        TAG_TARGET: prepared.target,
        TAG_DATE_COLUMN: prepared.date_column,
        TAG_HYPERPARAMETERS: json.dumps(hyperparameters, sort_keys=True),
        TAG_FORECAST_STRATEGY: spec.strategy,
        TAG_EVALUATION: TUTORIAL if prepared.split == "random" else BACKTEST,
    }


def tutorial_metrics(choice: ModelChoice, hyperparameters: dict, train: pd.DataFrame,
                     validation: pd.DataFrame, prepared: PreparedData) -> dict[str, float]:
    """The tutorial's ex-post score: every column (yesterday's demand included) of randomly
    chosen validation days, from a model fitted on the other days."""
    target, date_column = prepared.target, prepared.date_column
    model = build_model(choice, hyperparameters, train, target, date_column)
    model.fit(train, train[target])
    return regression_metrics(validation[target].to_numpy(), model.predict(validation))


def run_metrics(backtest_metrics: dict[str, float],
                tutorial: dict[str, float] | None) -> dict[str, float]:
    """The run's single-number metrics: the backtest's, or on the tutorial's random split its
    four metrics under their names and the backtest's as ``backtest_<name>``."""
    if tutorial is None:
        return dict(backtest_metrics)
    renamed = {(f"{BACKTEST_PREFIX}{k}" if k in TUTORIAL_METRICS else k): v
               for k, v in backtest_metrics.items()}
    return {**renamed, **tutorial}


def estimator_params(model: object, logged: dict[str, str]) -> dict[str, object]:
    """The estimator's parameters (of the first series' model, where each has its own), but
    those the run already has (MLproject's)."""
    if isinstance(model, dict):
        model = model[min(model)]
    params = model.named_steps[ESTIMATOR_STEP].get_params()
    return {key: value for key, value in params.items() if key not in logged}


def scored_metrics(metrics: dict[str, float], backtest: Backtest, model_id: str,
                   dataset: Dataset) -> list[Metric]:
    """The run's metrics and ``rmse_by_horizon``/``mase_by_horizon`` as histories with step = h
    (so the MLflow UI draws error against steps ahead), each linked to the logged model it
    scores and the dataset it was scored on (``mlflow.search_logged_models`` ranks by them)."""
    now = int(time.time() * 1000)
    link = {"model_id": model_id, "dataset_name": dataset.name, "dataset_digest": dataset.digest}
    scored = [Metric(key, float(value), now, 0, **link) for key, value in metrics.items()]
    for h, row in by_horizon(backtest)["model"].iterrows():
        scored += [Metric(f"{name}_by_horizon", float(row[name]), now, int(h), **link)
                   for name in ("rmse", "mase")]
    return scored


def log_plots(run: Run, backtest: Backtest, table: pd.DataFrame, spec: ForecastSpec,
              title: str) -> None:
    """Under ``run``'s evaluation pictures: the fan chart of the last origin, error by horizon
    for the model and each baseline, and the backtest's forecasts against the actuals (of the
    bottom-up total, for many series)."""
    frame = backtest.forecasts
    if spec.series:
        frame = total_backtest(backtest, table, spec)
        table = daily_total(table, spec)
        title = f"{title}, all series"
    last = frame[frame["fold"] == frame["fold"].max()]
    history = table[table[spec.date_column] <= last["origin"].iloc[0]].tail(4 * spec.horizon)
    history = pd.DataFrame({"date": history[spec.date_column],
                            "actual": history[spec.target]})
    figures = {"error_by_horizon": plots.error_by_horizon(by_horizon(backtest), title)}
    if "lower_80" in last:
        figures["fan_chart"] = plots.fan_chart(history, last, title)
    actual, forecast = frame["actual"].to_numpy(), frame["forecast"].to_numpy()
    figures["predicted_vs_actual"] = plots.predicted_vs_actual(actual, forecast, title)
    figures["residuals_over_time"] = plots.residuals_over_time(frame["date"], actual, forecast,
                                                               title)
    with tempfile.TemporaryDirectory() as folder:
        for name, figure in figures.items():
            figure.savefig(Path(folder) / f"{name}.png")
        log_folder(run, folder, PLOTS_DIR)


def log_series_tables(run: Run, per_series: pd.DataFrame, backtest: Backtest,
                      table: pd.DataFrame, spec: ForecastSpec) -> None:
    """Every series' scores, and the bottom-up total's daily history and backtest (what a
    department's total is summed from, grocery/department_totals.py), as Parquet tables of
    ``run`` in one upload, whatever the number of series."""
    history = daily_total(table, spec).rename(columns={spec.target: ACTUAL})
    total = total_backtest(backtest, table, spec)[list(TOTAL_COLUMNS)]
    with tempfile.TemporaryDirectory() as folder:
        for frame, name in ((per_series, SERIES_SCORES_FILE), (history, TOTAL_HISTORY_FILE),
                            (total, TOTAL_BACKTEST_FILE)):
            frame.to_parquet(Path(folder) / name, index=False)
        log_folder(run, folder, PLOTS_DIR)


def summary(model: str, metrics: dict[str, float]) -> str:
    """The printed line's scores: rmse and mase over the backtest, interval coverage,
    rmse_to_noise if known, and the gain over the best baseline."""
    rmse = metrics.get("backtest_rmse", metrics["rmse"])
    parts = [f"{model} backtest rmse {rmse:.2f} mase {metrics['mase']:.3f}"]
    if "coverage_80" in metrics:
        parts.append(f"coverage_80 {metrics['coverage_80']:.2f}")
    if "rmse_to_noise" in metrics:
        parts.append(f"rmse_to_noise {metrics['rmse_to_noise']:.3f}")
    if "series_mase_p90" in metrics:
        parts.append(f"over {metrics['series_count']:.0f} series (p90 mase "
                     f"{metrics['series_mase_p90']:.3f})")
    gain = metrics["improvement_over_baseline"]
    return f"{' '.join(parts)}, {gain:.1%} better than the best baseline"


def noise_floor_of(prepared: PreparedData) -> float | None:
    """The noise floor of the backtest's days, known for synthetic data split by time."""
    return prepared.noise_floor if prepared.split == "time" else None
