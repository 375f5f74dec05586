"""The logged forecaster, as an MLflow model from code.

The fitted feature steps and estimator are a skops file (never a pickle); the horizon, columns
and interval calibration are the model's configuration. It takes one table of history rows then
future rows and answers one row per future day (see grocery/forecaster.py).

The package itself never lets MLflow run this file: ``grocery.model_trust`` checks a version's
files and builds a ``LoadedForecaster`` from them with the catalog's trusted types (inside
MLflow's ``PyFuncModel``, which checks the input against the signature). MLflow runs it
only under ``mlflow models serve``, where the model's own list of trusted types is all there is
(``verify`` checks that list against the catalog's first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import skops.io
from mlflow.models import set_model
from mlflow.pyfunc import PythonModel
from mlflow.pyfunc.model import PythonModelContext
from sklearn.pipeline import Pipeline

from grocery.forecaster import ForecastSpec, forecast_table
from grocery.intervals import IntervalCalibration
from grocery.names import ESTIMATOR_ARTIFACT


def calibration_of(config: dict) -> IntervalCalibration:
    """The interval calibration stored in a model's configuration."""
    return IntervalCalibration(scale=tuple(config["scale"]),
                               quantiles={float(level): q for level, q in config["quantiles"]})


@dataclass(frozen=True)
class LoadedForecaster:
    """A fitted forecaster with its spec and calibration, ready to forecast."""

    model: Pipeline
    calibration: IntervalCalibration
    spec: ForecastSpec

    def predict(self, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        """History plus future rows in; date, forecast and its 80% and 95% bands out."""
        return forecast_table(self.model, self.calibration, self.spec, model_input)


def load_forecaster(config: dict, estimator: str | Path,
                    trusted_types: Sequence[str]) -> LoadedForecaster:
    """The forecaster a model's configuration and skops file describe; the skops file is read
    with ``trusted_types`` only, so any other type in it is refused, never built."""
    return LoadedForecaster(skops.io.load(estimator, trusted=list(trusted_types)),
                            calibration_of(config), ForecastSpec.from_dict(config["spec"]))


class Forecaster(PythonModel):
    """The pyfunc MLflow loads: history plus future rows in, the forecast table out."""

    def load_context(self, context: PythonModelContext) -> None:
        config = context.model_config
        self.forecaster = load_forecaster(config, context.artifacts[ESTIMATOR_ARTIFACT],
                                          config["trusted_types"])

    def predict(self, context: PythonModelContext, model_input: pd.DataFrame,
                params: dict | None = None) -> pd.DataFrame:
        return self.forecaster.predict(model_input)


set_model(Forecaster())
