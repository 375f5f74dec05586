"""End to end: `mlflow run . -e predict` against a store with a registered cheese champion: a
history-plus-future table in, one forecast row per future day out."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from grocery.errors import UserError
from grocery.forecaster import OUTPUT_COLUMNS
from grocery.logged_forecaster import no_bytecode_cache
from grocery.names import ALIAS_CHAMPION, TAG_REGISTERED_MODEL, registered_model_name
from tests.champion import CHEESE, CONFIG, Champion, shared_champion
from tests.conftest import Store, error_lines, succeeded

COLUMNS = ["date", *OUTPUT_COLUMNS]
NOISE = CONFIG.generators[CHEESE.name].noise_std


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


def champion_forecast(champion: Champion, table: pd.DataFrame) -> pd.DataFrame:
    """What the champion forecasts for ``table``, computed in this process."""
    mlflow.set_tracking_uri(champion.store.uri)
    try:
        with no_bytecode_cache():  # MLflow's loader imports a local version in place
            model = mlflow.pyfunc.load_model(f"models:/{CHEESE.registered_model}@champion")
    finally:
        mlflow.set_tracking_uri(None)
    return model.predict(table)


def test_predict_by_alias_writes_csv_and_logs_it(champion, tmp_path):
    sales = champion.sales()
    table = champion.history_plus_future(sales)
    source, output = tmp_path / "history_plus_future.csv", tmp_path / "out" / "forecast.csv"
    table.to_csv(source, index=False)  # a csv read back: dates as text, flags as integers
    result = succeeded(champion.store.mlflow_run(
        entry_point="predict", product="cheese", input=source, output=output))

    written = pd.read_csv(output, parse_dates=["date"])
    horizon = champion.prepared.horizon
    assert list(written.columns) == COLUMNS and len(written) == horizon == 14
    assert list(written["date"]) == list(sales["date"].tail(horizon))
    expected = champion_forecast(champion, table)
    np.testing.assert_allclose(written[list(OUTPUT_COLUMNS)], expected[list(OUTPUT_COLUMNS)],
                               rtol=1e-9)
    assert (written["lower_95"] < written["lower_80"]).all()
    assert (written["lower_80"] < written["forecast"]).all()
    assert (written["forecast"] < written["upper_80"]).all()
    # A forecast, not noise: close to the demand the days then had.
    rmse = float(np.sqrt(((written["forecast"] - sales["demand"].tail(horizon).to_numpy())
                          ** 2).mean()))
    assert rmse < 3 * NOISE

    run = predict_run(champion.store)
    assert run.info.status == "FINISHED"
    assert run.data.tags["registered_model"] == CHEESE.registered_model
    assert run.data.tags["model_version"] == str(champion.version.version)
    assert run.data.tags["model_reference"] == f"{CHEESE.registered_model}@champion"
    assert run.data.tags["product"] == "cheese"
    assert run.data.metrics["rows"] == horizon
    logged = champion.store.client.download_artifacts(
        run.info.run_id, "predictions/forecast.csv", str(tmp_path))
    pd.testing.assert_frame_equal(pd.read_csv(logged, parse_dates=["date"]), written)
    assert f"-> {output}" in result.stdout


# The step's other choices run in this process (tests/conftest.py's step_here): the test above
# and test_bad_predict_is_one_line_and_a_failed_run are its two runs through `mlflow run`.


def test_predict_by_version_writes_parquet(champion, step_here, tmp_path):
    table = champion.history_plus_future()
    source, output = tmp_path / "history_plus_future.parquet", tmp_path / "forecast.parquet"
    table.to_parquet(source, index=False)
    assert step_here(champion.store, "predict", product="cheese", input=source, output=output,
                     model_version=champion.version.version, model_alias="no-such-alias") is None

    written = pd.read_parquet(output)
    assert list(written.columns) == COLUMNS and len(written) == 14
    pd.testing.assert_frame_equal(written, champion_forecast(champion, table),
                                  check_exact=False, rtol=1e-9)
    run = predict_run(champion.store)
    assert run.data.tags["model_reference"] == (
        f"{CHEESE.registered_model}/{champion.version.version}")
    assert run.data.tags["model_version"] == str(champion.version.version)


def test_predict_without_input_forecasts_the_days_after_the_training_data(champion, step_here,
                                                                         tmp_path):
    output = tmp_path / "forecast.csv"
    assert step_here(champion.store, "predict", product="cheese", output=output) is None

    written = pd.read_csv(output, parse_dates=["date"])
    horizon = champion.prepared.horizon
    assert list(written.columns) == [*COLUMNS, "actual"] and len(written) == horizon == 14
    # The pipeline's default data ends on 2023-10-03; the forecast covers the next 14 days.
    assert list(written["date"]) == list(pd.date_range("2023-10-04", periods=14, freq="D"))
    assert written["actual"].notna().all()
    inside = written["actual"].between(written["lower_95"], written["upper_95"])
    assert inside.sum() >= 11, written
    rmse = float(np.sqrt(((written["forecast"] - written["actual"]) ** 2).mean()))
    assert rmse < 3 * NOISE
    assert predict_run(champion.store).data.metrics["rows"] == 14


def future_gap(champion: Champion, folder: Path) -> Path:
    """A table whose fourth future day has no planned price."""
    table = champion.history_plus_future()
    table.loc[table.index[-11], "price_per_kg"] = np.nan
    path = folder / "gap.csv"
    table.to_csv(path, index=False)
    return path


def no_history(champion: Champion, folder: Path) -> Path:
    """A table of days without any known demand."""
    path = folder / "no_history.csv"
    champion.history_plus_future().assign(demand=np.nan).to_csv(path, index=False)
    return path


def no_price(champion: Champion, folder: Path) -> Path:
    """A table without the known-ahead column ``price_per_kg``."""
    path = folder / "no_price.csv"
    champion.history_plus_future().drop(columns=["price_per_kg"]).to_csv(path, index=False)
    return path


def good(champion: Champion, folder: Path) -> Path:
    path = folder / "good.csv"
    champion.history_plus_future().to_csv(path, index=False)
    return path


BAD = [
    (future_gap, {}, "future row 2023-11-21 has no value for known-ahead column 'price_per_kg': "
     "a forecast needs every known-ahead value of the days it forecasts"),
    (no_history, {}, "the input has no history rows: give the days up to the forecast origin "
     "with their demand, then the days to forecast without it"),
    (no_price, {}, "input does not match the model's signature: missing column price_per_kg; "
     "the model takes "),
    (good, {"model_alias": "gold"},
     f"registered model '{CHEESE.registered_model}' has no alias 'gold'"),
    (lambda champion, folder: folder / "absent.csv", {}, "{input}: no such file"),
]


def test_bad_predict_is_one_line_and_a_failed_run(champion, tmp_path):
    """Through the real `mlflow run`: the input lacks a column the model takes."""
    path = no_price(champion, tmp_path)
    output = tmp_path / "forecast.csv"
    result = champion.store.mlflow_run(entry_point="predict", product="cheese", input=path,
                                       output=output)
    assert result.returncode != 0
    lines = error_lines(result)
    assert len(lines) == 1 and lines[0].startswith(f"error: {BAD[2][2]}")
    # The message ends by naming every column the model takes.
    taken = [c.split(" (")[0] for c in lines[0].split("the model takes ")[1].split("), ")]
    assert {"date", *champion.prepared.known_ahead} <= set(taken)
    assert "Traceback" not in result.stderr
    assert not output.exists()
    run = predict_run(champion.store)
    assert run.info.status == "FAILED"
    assert f"error: {run.data.tags['grocery.error']}" == lines[0]


HERE = [b for b in BAD if b[0] is not no_price]


@pytest.mark.parametrize(("source", "params", "message"), HERE,
                         ids=["future-gap", "no-history", "alias", "absent"])
def test_bad_predict_input_fails_the_run_with_the_reason(champion, step_here, tmp_path,
                                                         source, params, message):
    """The other bad inputs, the step run in this process (tests/conftest.py)."""
    path = source(champion, tmp_path)
    output = tmp_path / "forecast.csv"
    error = step_here(champion.store, "predict", product="cheese", input=path, output=output,
                      **params)
    expected = message.format(input=path)
    assert isinstance(error, UserError) and str(error) == expected, error
    assert not output.exists()
    run = predict_run(champion.store)
    assert run.info.status == "FAILED" and run.data.tags["grocery.error"] == expected


def test_a_product_outside_the_catalog_is_forecast_by_its_name(champion, step_here, tmp_path):
    """A user's own product's model is found by its name, as a catalog product's is; its future
    only the user knows, so without input the step stops in one line (docs/own-data-and-models.md).
    The own product's model here is the champion's, registered under the own product's name."""
    own = "farm-cheese"
    name = registered_model_name(own)
    client = champion.store.client
    client.create_registered_model(name)
    mlflow.set_tracking_uri(champion.store.uri)  # where the registry looks the logged model up
    try:
        copy = client.create_model_version(name, champion.version.source,
                                           run_id=champion.version.run_id,
                                           tags=champion.version.tags)
    finally:
        mlflow.set_tracking_uri(None)
    client.set_registered_model_alias(name, ALIAS_CHAMPION, copy.version)
    table = champion.history_plus_future()
    source, output = tmp_path / "next_days.csv", tmp_path / "forecast.csv"
    table.to_csv(source, index=False)

    assert step_here(champion.store, "predict", product=own, input=source, output=output) is None
    written = pd.read_csv(output)
    np.testing.assert_allclose(written["forecast"], champion_forecast(champion, table)["forecast"],
                               rtol=1e-9)
    assert predict_run(champion.store).data.tags[TAG_REGISTERED_MODEL] == name

    error = step_here(champion.store, "predict", product=own,
                      output=tmp_path / "without_input.csv")
    assert isinstance(error, UserError) and str(error) == (
        f"{name} is not a catalog product's model, so there are no synthetic days after its "
        "data; pass -P input=<a table of history rows then the days to forecast>")
