"""Models from the catalog (its estimator behind the feature steps), and the validation metrics."""

from __future__ import annotations

import importlib
import math
from typing import TYPE_CHECKING

from grocery.config import ModelChoice
from grocery.errors import UserError

if TYPE_CHECKING:  # scikit-learn only where a model is fitted or scored (see regression_metrics)
    import numpy as np
    import pandas as pd
    from sklearn.base import RegressorMixin
    from sklearn.pipeline import Pipeline


def coerce(value: str, default: object) -> object:
    """Turn a command-line string into the type of the default it overrides."""
    if isinstance(default, bool):
        if value.lower() in ("true", "1", "yes"):
            return True
        if value.lower() in ("false", "0", "no"):
            return False
        raise ValueError(value)
    if value.lower() in ("none", "null"):
        return None
    if isinstance(default, int):
        return int(value)
    if isinstance(default, float):
        return float(value)
    return value


def resolve_hyperparameters(choice: ModelChoice, overrides: dict[str, str]) -> dict:
    """The catalog's defaults for ``choice`` with the user's overrides applied and typed."""
    params = dict(choice.params)
    for key, raw in overrides.items():
        if key not in params:
            raise UserError(
                f"unknown hyperparameter {key!r} for model {choice.name!r}; "
                f"valid: {', '.join(sorted(params))}"
            )
        try:
            params[key] = coerce(raw, params[key])
        except ValueError:
            raise UserError(f"hyperparameter {key}={raw!r} is not a valid value") from None
    return params


def build_estimator(choice: ModelChoice, params: dict) -> RegressorMixin:
    """An unfitted estimator of the catalog's class with ``params``."""
    module, _, cls = choice.estimator.rpartition(".")
    return getattr(importlib.import_module(module), cls)(**params)


def regression_metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """The tutorial's validation metrics: mae, mse, rmse and r2."""
    # Lazy: importing scikit-learn costs ~0.8 s, which main (it resolves hyperparameters) skips.
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    mse = mean_squared_error(actual, predicted)
    return {
        "mae": float(mean_absolute_error(actual, predicted)),
        "mse": float(mse),
        "rmse": math.sqrt(mse),
        "r2": float(r2_score(actual, predicted)),
    }


def build_model(choice: ModelChoice, params: dict, frame: pd.DataFrame, target: str,
                date_column: str, lags: tuple[int, ...] = (1, 7), step_days: int = 1) -> Pipeline:
    """An unfitted model: the catalog's estimator behind the feature steps for ``frame``, with
    the target's ``lags`` (steps of ``step_days``; the tutorial's yesterday and last week)."""
    # Lazy: the feature steps import scikit-learn (~0.8 s), which main skips.
    from grocery.features import forecasting_model

    return forecasting_model(build_estimator(choice, params), frame, target, date_column, lags,
                             step_days)


def rmse_to_noise(rmse: float, noise_floor: float) -> float:
    """How far above the noise floor a model's rmse is (1.0 = as good as the data allows)."""
    return rmse / noise_floor
