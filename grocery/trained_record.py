"""What a train run logs once its model is fitted: the model first, then its scores linked to
it and to the backtest's table, its estimator's parameters, and the pictures (the train step
and the single-process floor benchmark log exactly this). The scores, parameters and tags join
the step's record (grocery/step_run.py), written with its last request."""

from __future__ import annotations

import pandas as pd
from mlflow.data.dataset import Dataset
from mlflow.models.model import ModelInfo

from grocery import training
from grocery.config import ModelChoice
from grocery.evaluation import Backtest
from grocery.forecaster import ForecastSpec, Model
from grocery.logged_forecaster import log_forecaster
from grocery.names import TAG_MODEL_URI, TAG_WORST_SERIES, logged_model_name
from grocery.series import worst_series
from grocery.step_run import StepRecord


def log_trained(step: StepRecord, model: Model, backtest: Backtest, metrics: dict[str, float],
                table: pd.DataFrame, spec: ForecastSpec, choice: ModelChoice, product: str,
                params: dict, trusted_types: list[str], evaluation: Dataset,
                per_series: pd.DataFrame | None = None) -> ModelInfo:
    """Log the fitted forecaster as ``<product>-<model>`` (the model before its scores, so
    MLflow need not read the scores back to link them), then its metrics, the estimator's
    parameters the run lacks and the model's URI (and the worst series) into ``step``'s
    record, then the per-series scores' table and the pictures."""
    info = log_forecaster(step.run, model, backtest.calibration, spec, table, trusted_types,
                          logged_model_name(product, choice.name), params)
    tags = {TAG_MODEL_URI: info.model_uri}
    if per_series is not None:
        tags[TAG_WORST_SERIES] = worst_series(per_series)
    step.log(training.scored_metrics(metrics, backtest, info.model_id, evaluation),
             training.estimator_params(model, step.params), tags)
    if per_series is not None:
        training.log_series_tables(step.run, per_series, backtest, table, spec)
    training.log_plots(step.run, backtest, table, spec, f"{product}, {choice.name}")
    return info
