"""Logging a fitted forecaster as one MLflow model from code (grocery/forecaster_model.py).

Nothing is pickled: the fitted feature steps and estimator are a skops file whose types must all
be among the reviewed trusted types, the configuration (columns, horizon, strategy, interval
calibration) is the model's ``model_config``, and the package's modules travel as its code.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import skops.io
from mlflow.entities import LoggedModelOutput, Run
from mlflow.models.model import ModelInfo
from mlflow.tracking import MlflowClient

from grocery.config import PROJECT_DIR, pinned_requirements
from grocery.forecaster import ForecastSpec, Model, forecast_table
from grocery.intervals import IntervalCalibration
from grocery.names import ESTIMATOR_ARTIFACT
from grocery.signature import forecast_signature

PACKAGE_DIR = PROJECT_DIR / "grocery"
MODEL_FILE = PACKAGE_DIR / "forecaster_model.py"


def model_config(spec: ForecastSpec, calibration: IntervalCalibration,
                 trusted_types: list[str]) -> dict:
    """What the loaded model needs besides its estimator, as plain data."""
    return {"spec": spec.to_dict(), "scale": list(calibration.scale),
            "quantiles": [[level, q] for level, q in sorted(calibration.quantiles.items())],
            "trusted_types": list(trusted_types)}


def example_input(table: pd.DataFrame, spec: ForecastSpec) -> pd.DataFrame:
    """The shape the model takes: two seasons of history, then ``horizon`` future rows with only
    the series key, the date and the known-ahead columns filled (of the first two series when
    the table holds many)."""
    if spec.series:
        first = table[list(spec.series)].drop_duplicates().sort_values(list(spec.series)).head(2)
        table = table.merge(first, on=list(spec.series))
    ordered = table.sort_values([*spec.series, spec.date_column], kind="stable")
    dates = np.sort(ordered[spec.date_column].unique())
    shown = ordered[ordered[spec.date_column] >= dates[-spec.horizon - 2 * spec.season]]
    ahead = shown[spec.date_column] >= dates[-spec.horizon]
    history, future = shown[~ahead], shown[ahead].copy()
    unknown = [c for c in future.columns if c not in (*spec.inputs, *spec.series)]
    future[unknown] = float("nan")
    # A valid input names every known-ahead value of the days it forecasts; a gap in the
    # table's own last days takes the nearest known value.
    known = list(spec.known_ahead)
    future[known] = future[known].ffill().bfill()
    return pd.concat([history, future], ignore_index=True)


def checked_skops_file(model: Model, folder: Path, trusted_types: list[str]) -> Path:
    """``model`` written with skops; every type in it must be a reviewed trusted type."""
    path = folder / f"{ESTIMATOR_ARTIFACT}.skops"
    skops.io.dump(model, path)
    untrusted = sorted(set(skops.io.get_untrusted_types(file=path)) - set(trusted_types))
    if untrusted:
        raise RuntimeError(f"the fitted model holds types no one reviewed: {untrusted}; review "
                           "them and add them to catalog.yaml's skops trusted types")
    return path


@contextmanager
def no_bytecode_cache() -> Iterator[None]:
    """Python writes no ``__pycache__`` meanwhile. ``log_model`` loads the saved model to check
    its input example, importing forecaster_model.py from the model's own folder before that
    folder is uploaded: a bytecode file there would travel with the model, which
    grocery/model_trust.py then refuses (it holds a file the package never writes)."""
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        yield
    finally:
        sys.dont_write_bytecode = saved


def log_forecaster(run: Run, model: Model, calibration: IntervalCalibration, spec: ForecastSpec,
                   table: pd.DataFrame, trusted_types: list[str], name: str = "forecaster",
                   params: dict | None = None) -> ModelInfo:
    """Log the fitted forecaster as ``run``'s logged model ``name`` with its hyperparameters
    ``params`` and the run's own, its history-plus-future signature and input example, the
    pinned requirements and the package's code.

    The logged model is made first, for the run in hand, then filled: ``log_model`` under an
    active run would read the run back twice and copy ``model_config`` into the run's params
    (it is in the model's MLmodel file)."""
    example = example_input(table, spec)
    output = forecast_table(model, calibration, spec, example)
    logged = mlflow.initialize_logged_model(
        name=name, source_run_id=run.info.run_id, experiment_id=run.info.experiment_id,
        # As `log_model` names them: the run's params over the model's.
        params={key: str(value) for key, value in {**(params or {}),
                                                    **run.data.params}.items()})
    with tempfile.TemporaryDirectory() as folder, no_bytecode_cache():
        code = Path(folder) / PACKAGE_DIR.name
        shutil.copytree(PACKAGE_DIR, code, ignore=shutil.ignore_patterns("__pycache__"))
        info = mlflow.pyfunc.log_model(
            name=name,
            model_id=logged.model_id,
            python_model=str(MODEL_FILE),
            artifacts={ESTIMATOR_ARTIFACT: str(checked_skops_file(model, Path(folder),
                                                                  trusted_types))},
            model_config=model_config(spec, calibration, trusted_types),
            code_paths=[str(code)],
            signature=forecast_signature(example, output, [*spec.series, *spec.inputs]),
            input_example=example,
            pip_requirements=pinned_requirements(),
        )
    MlflowClient().log_outputs(run.info.run_id, models=[LoggedModelOutput(logged.model_id, 0)])
    return info
