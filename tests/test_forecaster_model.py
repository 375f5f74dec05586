"""grocery.forecaster_model: the loaded model's interval calibration and spec come back from the
configuration logging wrote (the model itself is loaded through MLflow in
tests/test_logged_forecaster.py)."""

from __future__ import annotations

import numpy as np

from grocery.forecaster import ForecastSpec
from grocery.forecaster_model import calibration_of
from grocery.intervals import calibrate
from grocery.logged_forecaster import model_config


def test_the_configuration_round_trips_the_calibration_and_the_spec():
    h = np.tile(np.arange(1, 8), 4)
    calibration = calibrate(h, np.random.default_rng(2).normal(0, 3, len(h)), 7)
    spec = ForecastSpec("units", "day", ("price",), 7, 1, 7, "recursive")
    config = model_config(spec, calibration, ["grocery.features.CalendarLags"])
    assert calibration_of(config) == calibration
    assert ForecastSpec.from_dict(config["spec"]) == spec
    assert config["trusted_types"] == ["grocery.features.CalendarLags"]
