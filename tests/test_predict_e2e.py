"""End to end: `mlflow run . -e predict` against a store with a registered cheese champion."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from grocery.config import load_config
from tests.champion import CHEESE, Champion, shared_champion
from tests.conftest import Store, error_lines, succeeded


@pytest.fixture(scope="module")
def champion(tmp_path_factory) -> Champion:
    return shared_champion(tmp_path_factory)


def predict_run(store: Store) -> mlflow.entities.Run:
    """The newest predict run in the store."""
    runs = store.client.search_runs(
        [e.experiment_id for e in store.client.search_experiments()],
        filter_string="tags.`grocery.step` = 'predict'",
        order_by=["attributes.start_time DESC"], max_results=1)
    return runs[0]


def champion_model(champion: Champion) -> mlflow.pyfunc.PyFuncModel:
    mlflow.set_tracking_uri(champion.store.uri)
    try:
        return mlflow.pyfunc.load_model(f"models:/{CHEESE.registered_model}@champion")
    finally:
        mlflow.set_tracking_uri(None)


def model_predictions(champion: Champion, rows: pd.DataFrame) -> np.ndarray:
    """What the champion predicts for ``rows``, computed in this process."""
    return champion_model(champion).predict(rows)


def test_predict_by_alias_writes_csv_and_logs_it(champion, tmp_path):
    output = tmp_path / "out" / "forecast.csv"
    result = succeeded(champion.store.mlflow_run(
        entry_point="predict", product="cheese", input=champion.validation_path, output=output))

    written = pd.read_csv(output)
    validation = champion.validation
    assert list(written.columns) == [*validation.columns, "prediction"]
    assert len(written) == len(validation) == 200
    expected = model_predictions(champion, validation)
    np.testing.assert_allclose(written["prediction"], expected, rtol=1e-12)
    # A forecast, not noise: close to the actual demand on the validation days.
    rmse = float(np.sqrt(((written["prediction"] - written["demand"]) ** 2).mean()))
    assert rmse < 3 * load_config().generators[CHEESE.name].noise_std

    run = predict_run(champion.store)
    assert run.info.status == "FINISHED"
    assert run.data.tags["registered_model"] == CHEESE.registered_model
    assert run.data.tags["model_version"] == str(champion.version.version)
    assert run.data.tags["model_reference"] == f"{CHEESE.registered_model}@champion"
    assert run.data.tags["product"] == "cheese"
    assert run.data.metrics["rows"] == 200
    logged = champion.store.client.download_artifacts(
        run.info.run_id, "predictions/forecast.csv", str(tmp_path))
    pd.testing.assert_frame_equal(pd.read_csv(logged), written)
    assert f"-> {output}" in result.stdout


def test_predict_by_version_writes_parquet(champion, tmp_path):
    rows = champion.validation.head(7).drop(columns=["demand"])
    source = tmp_path / "rows.csv"
    rows.to_csv(source, index=False)  # a csv read back: dates as text, flags as integers
    output = tmp_path / "forecast.parquet"
    succeeded(champion.store.mlflow_run(
        entry_point="predict", product="cheese", input=source, output=output,
        model_version=champion.version.version, model_alias="no-such-alias"))

    written = pd.read_parquet(output)
    assert len(written) == 7
    expected = model_predictions(champion, champion.validation.head(7).drop(columns=["demand"]))
    np.testing.assert_allclose(written["prediction"], expected, rtol=1e-12)
    run = predict_run(champion.store)
    assert run.data.tags["model_reference"] == (
        f"{CHEESE.registered_model}/{champion.version.version}")
    assert run.data.tags["model_version"] == str(champion.version.version)


def broken_csv(champion: Champion, folder: Path) -> Path:
    """Validation rows without ``previous_days_demand`` and with a fractional ``promo``."""
    rows = champion.validation.head(5).drop(columns=["previous_days_demand"])
    rows["promo"] = rows["promo"] + 0.5
    path = folder / "broken.csv"
    rows.to_csv(path, index=False)
    return path


BAD = [
    ("broken", {}, "input does not match the model's signature: missing column "
     "previous_days_demand; mistyped column promo (float64, expected long); the model takes "),
    ("good", {"model_alias": "gold"},
     f"registered model '{CHEESE.registered_model}' has no alias 'gold'"),
    ("absent", {}, "{input}: no such file"),  # the message of grocery.tables, the one reader
]


@pytest.mark.parametrize(("source", "params", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_predict_is_one_line_and_a_failed_run(champion, tmp_path, source, params,
                                                  message):
    path = {"broken": lambda: broken_csv(champion, tmp_path),
            "good": lambda: champion.validation_path,
            "absent": lambda: tmp_path / "absent.csv"}[source]()
    output = tmp_path / "forecast.csv"
    result = champion.store.mlflow_run(entry_point="predict", product="cheese", input=path,
                                       output=output, **params)
    assert result.returncode != 0
    expected = message.format(input=path)
    lines = error_lines(result)
    assert len(lines) == 1 and lines[0].startswith(f"error: {expected}")
    if source == "broken":  # the message ends by naming every column the model takes
        inputs = champion_model(champion).metadata.get_input_schema().inputs
        assert [c.split(" (")[0] for c in lines[0].split("the model takes ")[1].split("), ")] \
            == [c.name for c in inputs]
    else:
        assert lines == [f"error: {expected}"]
    assert "Traceback" not in result.stderr
    assert not output.exists()
    run = predict_run(champion.store)
    assert run.info.status == "FAILED"
    assert f"error: {run.data.tags['grocery.error']}" == lines[0]
