"""Naive forecasts a model must beat: yesterday's target, and the same weekday last week.

Each validation day looks its lag up among the known targets of both halves (never its own), as
a person with yesterday's figures would; a day whose lag is unknown gets the training mean.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from grocery.features import days_since_epoch as _days
from grocery.modeling import regression_metrics

BASELINES = {"previous_day": 1, "last_week": 7}


def naive_forecasts(train: pd.DataFrame, validation: pd.DataFrame, target: str,
                    date_column: str) -> dict[str, np.ndarray]:
    """Each baseline's forecast for every validation row, in the validation's order."""
    known = pd.concat([
        pd.Series(train[target].to_numpy(dtype=np.float64), index=_days(train[date_column])),
        pd.Series(validation[target].to_numpy(dtype=np.float64),
                  index=_days(validation[date_column])),
    ])
    known = known[~known.index.duplicated(keep="last")]
    days = _days(validation[date_column])
    fallback = float(train[target].mean())
    return {name: np.nan_to_num(known.reindex(days - lag).to_numpy(), nan=fallback)
            for name, lag in BASELINES.items()}


def baseline_metrics(train: pd.DataFrame, validation: pd.DataFrame, target: str,
                     date_column: str, model_rmse: float) -> dict[str, float]:
    """``baseline_<name>_<metric>`` for each baseline, and ``improvement_over_baseline``: the
    model's rmse below the better baseline's, as a fraction of it (0.3 = 30% lower)."""
    actual = validation[target].to_numpy(dtype=np.float64)
    metrics: dict[str, float] = {}
    for name, forecast in naive_forecasts(train, validation, target, date_column).items():
        for metric, value in regression_metrics(actual, forecast).items():
            metrics[f"baseline_{name}_{metric}"] = value
    best = min(metrics[f"baseline_{name}_rmse"] for name in BASELINES)
    metrics["improvement_over_baseline"] = 1 - model_rmse / best if best > 0 else 0.0
    return metrics
