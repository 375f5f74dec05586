"""End to end with a user's own CSV: prepare, train and register with the real `mlflow run`, the
logged model predicting from the table's raw columns; bad tables end FAILED with the reason."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from grocery.config import load_config, own_product
from grocery.errors import UserError
from grocery.experiments import data_schema, route_run
from grocery.own_data import read_own_table
from grocery.prepared import PreparedData
from tests.conftest import Store, error_lines, new_store, succeeded

PRODUCT, DEPARTMENT, EXPERIMENT = "sourdough", "bakery", "Sourdough_Models"
MODEL = "grocery-forecasting-sourdough"
# A store decides the shelf ahead; the temperature is only observed.
OWN = {"product": PRODUCT, "department": DEPARTMENT, "target": "units_sold",
       "date_column": "day", "known_ahead": "shelf"}


def own_csv(folder: Path, rows: int = 150) -> Path:
    """Daily sales with a string column (with gaps), a numeric one with gaps, and a target that
    is not called demand."""
    rng = np.random.default_rng(7)
    days = pd.date_range("2024-01-01", periods=rows, freq="D")
    shelf = rng.choice(["front", "back", "aisle"], rows).astype(object)
    shelf[::11] = None
    temperature = rng.normal(20, 5, rows)
    units = (100 + 30 * (shelf == "front") + 2 * temperature + 25 * (days.day_of_week >= 5)
             + rng.normal(0, 5, rows))
    temperature[::9] = np.nan
    path = folder / "sourdough.csv"
    pd.DataFrame({"day": days.strftime("%Y-%m-%d"), "shelf": shelf,
                  "temperature": temperature, "units_sold": units}).to_csv(path, index=False)
    return path


def newest(store: Store, step: str) -> mlflow.entities.Run:
    runs = store.client.search_runs(
        [e.experiment_id for e in store.client.search_experiments()],
        filter_string=f"tags.`grocery.step` = '{step}'",
        order_by=["attributes.start_time DESC"], max_results=1)
    return runs[0]


@pytest.fixture(scope="module")
def own_store(tmp_path_factory) -> tuple[Store, Path]:
    folder = tmp_path_factory.mktemp("own")
    store = new_store(folder)
    store.client.create_experiment(EXPERIMENT, artifact_location=(folder / "art").as_uri())
    return store, own_csv(folder)


def test_own_csv_end_to_end_the_gate_and_a_model_on_raw_columns(own_store):
    store, csv = own_store
    exp = ("--experiment-name", EXPERIMENT)
    succeeded(store.mlflow_run(*exp, entry_point="prepare", data=csv, **OWN))
    prepare = newest(store, "prepare")
    assert prepare.data.tags["data_source"] == str(csv)
    assert prepare.data.tags["store_dept"] == DEPARTMENT
    assert prepare.data.metrics["train_rows"] == 150 - 5 * 14  # the backtest's days validate
    assert prepare.data.tags["grocery.known_ahead"] == "shelf"
    assert prepare.data.tags["grocery.observed"] == "temperature"
    assert "noise_floor" not in prepare.data.metrics  # real data: its noise is unknown
    prepared = PreparedData.from_json(Path(store.client.download_artifacts(
        prepare.info.run_id, "data/prepare.json", str(csv.parent))).read_text())
    # What main reads to route the run (the experiment rule) is what prepare logged.
    schema = data_schema(read_own_table(str(csv), "units_sold", "day", 0.2, "time", 14, 5,
                                        ("shelf",)), "units_sold", "day")
    assert prepared.schema == schema
    assert (prepared.product, prepared.source, prepared.noise_floor) == (PRODUCT, str(csv), None)
    assert schema[1] == ["shelf", "string", "feature"]

    succeeded(store.mlflow_run(*exp, entry_point="train",
                               data=f"runs:/{prepare.info.run_id}/data"))  # the default: ridge
    train = newest(store, "train")
    metrics = train.data.metrics
    assert train.data.tags["target"] == "units_sold" and train.data.tags["product"] == PRODUCT
    # Noise std 5, plus the temperature's effect (std 10), which no forecast may read.
    assert metrics["rmse"] < 15
    assert metrics["mase"] < min(metrics[f"baseline_{name}_mase"]
                                 for name in ("naive", "seasonal_naive", "ets"))
    assert 0 < metrics["improvement_over_baseline"] < 1
    assert "rmse_to_noise" not in metrics
    pictures = {a.path for a in store.client.list_artifacts(train.info.run_id, "evaluation")}
    assert {"evaluation/fan_chart.png", "evaluation/error_by_horizon.png",
            "evaluation/predicted_vs_actual.png"} <= pictures

    succeeded(store.mlflow_run(*exp, entry_point="register", train_run_id=train.info.run_id))
    register = newest(store, "register")
    assert (register.data.tags["alias"], register.data.tags["gate_decision"]) == (
        "champion", "no-champion")

    # A worse model (ridge regularised flat) is registered but fails the gate.
    data = f"runs:/{prepare.info.run_id}/data"
    succeeded(store.mlflow_run(*exp, entry_point="train", data=data, model="ridge", alpha=1e6))
    forest = newest(store, "train")
    succeeded(store.mlflow_run(*exp, entry_point="register", train_run_id=forest.info.run_id))
    gate = newest(store, "register")
    assert (gate.data.tags["alias"], gate.data.tags["gate_decision"]) == (
        "challenger", "failed")
    assert gate.data.tags["champion_version"] == "1"
    assert gate.data.metrics["champion_rmse"] == pytest.approx(metrics["rmse"])
    assert gate.data.metrics["candidate_rmse"] == pytest.approx(forest.data.metrics["rmse"])
    assert gate.data.metrics["candidate_rmse"] > gate.data.metrics["champion_rmse"]
    assert json.loads(gate.data.tags["gate_thresholds"]) == [
        {"metric": "rmse", "max_relative_regression": 0.0, "greater_is_better": False,
         "must_improve": True},
        {"metric": "mae", "max_relative_regression": 0.05, "greater_is_better": False,
         "must_improve": False}]
    assert gate.data.tags["gate_reason"].startswith("fails the gate against champion v1: ")

    mlflow.set_tracking_uri(store.uri)
    try:
        model = mlflow.pyfunc.load_model(f"models:/{MODEL}@champion")
    finally:
        mlflow.set_tracking_uri(None)
    schema = model.metadata.get_input_schema()
    raw = pd.read_csv(csv, parse_dates=["day"])
    assert sorted(schema.input_names()) == sorted(raw.columns)
    assert {spec.name for spec in schema.inputs if spec.required} == {"day", "shelf"}
    # Tomorrow's row has no target yet: the model forecasts it from the history before it and
    # tomorrow's known-ahead shelf.
    tomorrow = pd.DataFrame({"day": [raw["day"].max() + pd.Timedelta(days=1)],
                             "shelf": ["front"], "temperature": [np.nan],
                             "units_sold": [np.nan]})
    answer = model.predict(pd.concat([raw.tail(30), tomorrow], ignore_index=True))
    assert len(answer) == 1 and np.isfinite(answer["forecast"]).all()
    assert (answer["lower_80"] < answer["forecast"]).all()


BAD = [
    ("missing", lambda folder, csv: folder / "absent.csv", "{data}: no such file"),
    ("text-target", lambda folder, csv: bad_target(folder, csv),
     "{data}: target column 'units_sold' is not numeric (str, first 'many' at row 3)"),
]


def bad_target(folder: Path, csv: Path) -> Path:
    frame = pd.read_csv(csv)
    frame["units_sold"] = frame["units_sold"].astype(object)
    frame.loc[2, "units_sold"] = "many"
    path = folder / "bad.csv"
    frame.to_csv(path, index=False)
    return path


def test_bad_own_data_fails_the_run_with_the_reason(own_store, tmp_path):
    """Through the real `mlflow run`: the table named is not there."""
    store, csv = own_store
    data = BAD[0][1](tmp_path, csv)
    versions = len(store.client.search_model_versions())
    result = store.mlflow_run("--experiment-name", EXPERIMENT, entry_point="prepare",
                              data=data, **OWN)
    expected = BAD[0][2].format(data=data)
    assert result.returncode != 0
    assert error_lines(result) == [f"error: {expected}"]
    assert "Traceback" not in result.stderr
    run = newest(store, "prepare")
    assert run.info.status == "FAILED"
    assert run.data.tags["grocery.error"] == expected
    assert not store.client.list_artifacts(run.info.run_id)
    assert len(store.client.search_model_versions()) == versions


@pytest.mark.parametrize(("make", "message"), [b[1:] for b in BAD[1:]],
                         ids=[b[0] for b in BAD[1:]])
def test_bad_own_data_fails_the_run_here_with_the_reason(own_store, step_here, tmp_path, make,
                                                         message):
    """The other bad tables, the step run in this process (tests/conftest.py)."""
    store, csv = own_store
    data = make(tmp_path, csv)
    error = step_here(store, "prepare", data=data, **OWN)
    expected = message.format(data=data)
    assert isinstance(error, UserError) and str(error) == expected, error
    run = newest(store, "prepare")
    assert run.info.status == "FAILED" and run.data.tags["grocery.error"] == expected
    assert not store.client.list_artifacts(run.info.run_id)


def test_an_extra_column_lands_in_a_new_experiment(tmp_path):
    store = new_store(tmp_path / "store")
    catalog, product = load_config(), own_product(PRODUCT, DEPARTMENT)
    table = pd.read_csv(own_csv(tmp_path), parse_dates=["day"])
    schema = data_schema(table, "units_sold", "day")
    first, choice = route_run(store.client, catalog, product, schema, "linear")
    assert choice.name == EXPERIMENT
    again, _ = route_run(store.client, catalog, product, schema, "linear")
    assert again == first

    wider = data_schema(table.assign(oven="gas"), "units_sold", "day")
    second, moved = route_run(store.client, catalog, product, wider, "linear")
    assert second != first
    assert moved.name.startswith(f"{EXPERIMENT}-schema-")
    assert "data schema" in moved.reason
    tags = store.client.get_experiment(second).tags
    assert "oven (string, feature)" in tags["grocery.data_schema"]
    assert tags["store_dept"] == DEPARTMENT and tags["product"] == PRODUCT
    assert tags["grocery.experiment_reason"] == moved.reason
    # The old experiment still records the old schema.
    old = store.client.get_experiment(first).tags["grocery.data_schema"]
    assert "oven" not in old


def test_an_own_table_of_many_stores_is_one_pipeline_and_forecasts_each_and_their_total(
        tmp_path, step_here):
    store = new_store(tmp_path / "store")
    one = pd.read_csv(own_csv(tmp_path))
    chain = pd.concat([one.assign(shop=f"north-{k}", units_sold=one["units_sold"] * (k + 1))
                       for k in range(3)], ignore_index=True)
    chain.to_csv(tmp_path / "chain.csv", index=False)
    succeeded(store.mlflow_run(data=tmp_path / "chain.csv", series="shop", folds=2,
                               **{**OWN, "product": "rye"}))
    train = newest(store, "train")
    assert train.data.metrics["series_count"] == 3 and train.data.tags["grocery.series"] == "shop"
    # History up to an origin, then a week to forecast for every shop.
    origin = sorted(chain["day"].unique())[-8]
    request = chain.assign(units_sold=chain["units_sold"].where(chain["day"] <= origin),
                           temperature=chain["temperature"].where(chain["day"] <= origin),
                           shelf=chain["shelf"].fillna("back"))  # planned for every day
    request.to_csv(tmp_path / "request.csv", index=False)
    # predict in this process (tests/conftest.py): tests/test_predict_e2e.py runs it through
    # `mlflow run`.
    assert step_here(store, "predict", product="rye", input=tmp_path / "request.csv",
                     output=tmp_path / "out.csv") is None
    forecast = pd.read_csv(tmp_path / "out.csv")
    assert sorted(forecast["shop"].unique()) == ["north-0", "north-1", "north-2", "total"]
    shops = forecast[forecast["shop"] != "total"].groupby("day")["forecast"].sum()
    total = forecast[forecast["shop"] == "total"].set_index("day")["forecast"]
    assert len(total) == 7 and np.allclose(total.loc[shops.index], shops)
