"""Training one model on prepared data: fit it, score it against naive baselines and the noise
floor, and log its parameters, evaluation pictures and the model itself.

``fit`` and ``evaluate`` are pure scikit-learn; the ``log_*`` functions write to the active run.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow.models.model import ModelInfo
from sklearn.pipeline import Pipeline

from grocery import plots
from grocery.baselines import baseline_metrics
from grocery.config import ModelChoice, Product, pinned_requirements
from grocery.features import ESTIMATOR_STEP
from grocery.modeling import build_model, regression_metrics, rmse_to_noise
from grocery.names import (
    TAG_DATA_DIGEST,
    TAG_DATE_COLUMN,
    TAG_DEPARTMENT,
    TAG_HYPERPARAMETERS,
    TAG_MODEL_FAMILY,
    TAG_PREPARE_RUN,
    TAG_PRODUCT,
    TAG_TARGET,
)
from grocery.prepared import PreparedData
from grocery.signature import raw_columns_signature

MODEL_NAME = "model"  # the logged model's name within the run
PACKAGE_DIR = Path(__file__).resolve().parent
# The project code a loaded model needs (its feature steps), bundled with the model.
MODEL_CODE = ("__init__.py", "features.py")
PLOTS_DIR = "evaluation"


def run_tags(product: Product, prepared: PreparedData, choice: ModelChoice,
             hyperparameters: dict) -> dict[str, str]:
    """A train run's tags: its product, its prepared data and its model."""
    return {
        TAG_PRODUCT: product.name,
        TAG_DEPARTMENT: product.department,
        TAG_PREPARE_RUN: prepared.prepare_run_id,
        TAG_DATA_DIGEST: prepared.data_digest,
        TAG_MODEL_FAMILY: choice.family,
        TAG_TARGET: prepared.target,
        TAG_DATE_COLUMN: prepared.date_column,
        TAG_HYPERPARAMETERS: json.dumps(hyperparameters, sort_keys=True),
    }


def fit(choice: ModelChoice, hyperparameters: dict, train: pd.DataFrame,
        prepared: PreparedData) -> Pipeline:
    """The catalog's model fitted on ``train``."""
    model = build_model(choice, hyperparameters, train, prepared.target, prepared.date_column)
    # The model sees the whole table; the target only as history for its lags.
    return model.fit(train, train[prepared.target])


def evaluate(model: Pipeline, train: pd.DataFrame, validation: pd.DataFrame,
             prepared: PreparedData) -> tuple[np.ndarray, dict[str, float]]:
    """The validation forecasts and their metrics: mae/mse/rmse/r2, the naive baselines and the
    improvement over the better one, and ``rmse_to_noise`` when the noise floor is known."""
    predictions = model.predict(validation)
    metrics = regression_metrics(validation[prepared.target].to_numpy(), predictions)
    metrics.update(baseline_metrics(train, validation, prepared.target, prepared.date_column,
                                    metrics["rmse"]))
    if prepared.noise_floor:
        metrics["noise_floor"] = prepared.noise_floor
        metrics["rmse_to_noise"] = rmse_to_noise(metrics["rmse"], prepared.noise_floor)
    return predictions, metrics


def log_estimator_params(model: Pipeline, logged: dict[str, str]) -> None:
    """Log the estimator's parameters, but those the run already has (MLproject's)."""
    params = model.named_steps[ESTIMATOR_STEP].get_params()
    mlflow.log_params({key: value for key, value in params.items() if key not in logged})


def log_plots(model: Pipeline, validation: pd.DataFrame, predictions: np.ndarray,
              prepared: PreparedData, model_name: str) -> None:
    """Log the three evaluation pictures, titled with the product and the model's name, and the
    permutation importances as JSON."""
    target, date_column = prepared.target, prepared.date_column
    title = f"{prepared.product}, {model_name}"
    actual = validation[target].to_numpy()
    mlflow.log_figure(plots.predicted_vs_actual(actual, predictions, title),
                      f"{PLOTS_DIR}/predicted_vs_actual.png")
    mlflow.log_figure(
        plots.residuals_over_time(validation[date_column], actual, predictions, title),
        f"{PLOTS_DIR}/residuals_over_time.png")
    figure, importance = plots.feature_importance(
        model, validation, validation[target], title,
        labels={target: f"{target} (its lags)", date_column: f"{date_column} (calendar)"})
    mlflow.log_figure(figure, f"{PLOTS_DIR}/permutation_importance.png")
    mlflow.log_dict(importance, f"{PLOTS_DIR}/permutation_importance.json")


def log_model(model: Pipeline, validation: pd.DataFrame, predictions: np.ndarray, target: str,
              trusted_types: list[str]) -> ModelInfo:
    """Log ``model`` with skops, its raw-columns signature, the pinned requirements and the
    package code it needs to load (``MODEL_CODE``, copied into a folder named like the package)."""
    with tempfile.TemporaryDirectory() as folder:
        code = Path(folder) / PACKAGE_DIR.name
        code.mkdir()
        for file in MODEL_CODE:
            shutil.copy(PACKAGE_DIR / file, code / file)
        return mlflow.sklearn.log_model(
            model,
            name=MODEL_NAME,
            signature=raw_columns_signature(validation, predictions, target),
            input_example=validation.head(5),
            pip_requirements=pinned_requirements(),
            code_paths=[str(code)],
            serialization_format="skops",
            skops_trusted_types=trusted_types,
        )


def summary(model: str, metrics: dict[str, float]) -> str:
    """The printed line's scores: rmse, mae, r2, rmse_to_noise if known, and the gain over the
    best naive baseline."""
    noise = (f" rmse_to_noise {metrics['rmse_to_noise']:.3f}"
             if "rmse_to_noise" in metrics else "")
    return (f"{model} rmse {metrics['rmse']:.2f} mae {metrics['mae']:.2f} r2 "
            f"{metrics['r2']:.3f}{noise}, {metrics['improvement_over_baseline']:.1%} better than "
            "the best naive baseline")
