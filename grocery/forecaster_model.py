"""The logged forecaster, as an MLflow model from code.

MLflow runs this file to load the model: the fitted feature steps and estimator come from a
skops file (never a pickle), read back with the reviewed trusted types recorded at logging;
the horizon, columns and interval calibration come from the model's configuration. It takes
one table of history rows then future rows and answers one row per future day (see
grocery/forecaster.py).
"""

from __future__ import annotations

import pandas as pd
import skops.io
from mlflow.models import set_model
from mlflow.pyfunc import PythonModel
from mlflow.pyfunc.model import PythonModelContext

from grocery.forecaster import ForecastSpec, forecast_table
from grocery.intervals import IntervalCalibration
from grocery.names import ESTIMATOR_ARTIFACT


def calibration_of(config: dict) -> IntervalCalibration:
    """The interval calibration stored in a model's configuration."""
    return IntervalCalibration(scale=tuple(config["scale"]),
                               quantiles={float(level): q for level, q in config["quantiles"]})


class Forecaster(PythonModel):
    """History plus future rows in; date, forecast and its 80% and 95% bands out."""

    def load_context(self, context: PythonModelContext) -> None:
        config = context.model_config
        self.spec = ForecastSpec.from_dict(config["spec"])
        self.calibration = calibration_of(config)
        self.model = skops.io.load(context.artifacts[ESTIMATOR_ARTIFACT],
                                   trusted=list(config["trusted_types"]))

    def predict(self, context: PythonModelContext, model_input: pd.DataFrame,
                params: dict | None = None) -> pd.DataFrame:
        return forecast_table(self.model, self.calibration, self.spec, model_input)


set_model(Forecaster())
