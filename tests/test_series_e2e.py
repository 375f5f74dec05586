"""A chain's worth of series through the real `mlflow run`: one run per product and step whatever
the number of series, the same API requests for 10 stores as for 1,000, and the same scores
from a real two-node Ray cluster as from joblib on this machine."""

from __future__ import annotations

import math
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from grocery.backtest import min_train_rows
from grocery.frequency import DAILY
from grocery.names import (
    PER_SERIES,
    TAG_SERIES,
    TAG_SERIES_MODEL,
    TAG_STEP,
    TAG_WORST_SERIES,
    TRAIN,
)
from tests.conftest import Store, new_store, succeeded
from tests.mlproject import entry_point
from tests.ray_cluster import ray_cluster  # noqa: F401 (a fixture)

# The fewest days a backtest of two origins takes (two seasons and two weeks before the first
# origin, then two of MLproject's default horizons): these tests' claims are about the number of
# series (the requests, the engines' equal scores, the totals), not the length of each.
FOLDS = 2
HORIZON = int(entry_point("main").parameters["horizon"].default)
FEW_DAYS = {"rows": min_train_rows(DAILY.season) + FOLDS * HORIZON, "folds": FOLDS}
# The API requests of a cold one-product pipeline on a new server (bench/fanout.py counts the
# same in docs/benchmarks.md): more is a round trip that crept back in.
COLD_PIPELINE_REQUESTS = 60


def step_runs(store: Store, experiment: str) -> dict[str, list]:
    """The finished runs of one experiment, by their step tag."""
    found = store.client.get_experiment_by_name(experiment)
    runs: dict[str, list] = {}
    for run in store.client.search_runs([found.experiment_id]):
        runs.setdefault(run.data.tags.get(TAG_STEP), []).append(run)
    return runs


def test_a_thousand_stores_are_one_run_per_step_and_as_many_requests_as_ten(tmp_path):
    """The first of the two, a cold pipeline on a new server, also stays within its budget."""
    from scripts.services import TrackingServer

    server = TrackingServer(f"sqlite:///{tmp_path / 'mlflow.db'}", tmp_path, workers=1).start()
    store = Store(uri=server.uri, folder=tmp_path)
    try:
        counts = {}
        for product, stores in (("apples", 10), ("carrots", 1000)):
            before = len(server.requests())
            succeeded(store.mlflow_run(product=product, stores=stores, **FEW_DAYS))
            counts[stores] = len(server.requests()) - before
        runs = step_runs(store, "Carrot_Models")
        assert {step: len(found) for step, found in runs.items()} == {
            "pipeline": 1, "prepare": 1, "train": 1, "register": 1}
        (train,) = runs[TRAIN]
        assert train.data.metrics["series_count"] == 1000
        assert train.data.tags[TAG_SERIES] == "store_id"
        assert train.data.tags[TAG_WORST_SERIES].startswith("S")
        assert train.data.metrics["total_mase"] > 0
        scores = Path(mlflow.artifacts.download_artifacts(
            run_id=train.info.run_id, artifact_path="evaluation/series_scores.parquet",
            dst_path=str(tmp_path / "scores"), tracking_uri=server.uri))
        table = pd.read_parquet(scores)
        assert len(table) == 1000 and table["mase"].notna().all()
        assert table.loc[table["mase"].idxmax(), "series"] == train.data.tags[TAG_WORST_SERIES]
    finally:
        server.stop()
    assert abs(counts[1000] - counts[10]) <= 5, counts
    assert counts[10] <= COLD_PIPELINE_REQUESTS, counts


def test_a_two_node_ray_cluster_scores_a_chain_as_joblib_does(tmp_path, ray_cluster):  # noqa: F811
    store = new_store(tmp_path / "store")
    exp = ("--experiment-name", "Cherry_Models")
    store.client.create_experiment("Cherry_Models")
    succeeded(store.mlflow_run(*exp, entry_point="prepare", product="cherries", stores=200,
                               **FEW_DAYS))
    (prepare,) = step_runs(store, "Cherry_Models")["prepare"]
    data = f"runs:/{prepare.info.run_id}/data"
    # The same train step on the same 200 series, its chunks on the cluster, then on joblib.
    succeeded(store.mlflow_run(*exp, entry_point="train", data=data, series_model=PER_SERIES,
                               engine="ray", ray_address=ray_cluster.address))
    succeeded(store.mlflow_run(*exp, entry_point="train", data=data, series_model=PER_SERIES,
                               engine="local"))
    trains = sorted(step_runs(store, "Cherry_Models")[TRAIN], key=lambda r: r.info.start_time)
    assert [run.data.params["engine"] for run in trains] == ["ray", "local"]
    assert all(run.data.tags[TAG_SERIES_MODEL] == PER_SERIES for run in trains)
    on_ray, on_joblib = (run.data.metrics for run in trains)
    assert on_ray.keys() == on_joblib.keys() and on_ray["series_count"] == 200
    for name, value in on_ray.items():
        assert math.isclose(value, on_joblib[name], rel_tol=1e-9, abs_tol=1e-9), name


def test_a_departments_stores_add_up_to_its_products_and_to_the_department(tmp_path, step_here):
    store = new_store(tmp_path / "store")
    result = succeeded(store.mlflow_run(product="dairy", stores=5, **FEW_DAYS))
    (launcher,) = store.client.search_runs(["0"])
    assert launcher.data.metrics["dairy_total_mase"] > 0
    assert f"dairy department: bottom-up total of its products, rmse " \
           f"{launcher.data.metrics['dairy_total_rmse']:.2f}" in result.stdout
    output = tmp_path / "dairy.csv"
    # predict in this process (tests/conftest.py): tests/test_predict_e2e.py runs it through
    # `mlflow run`.
    assert step_here(store, "predict", product="dairy", output=output) is None
    forecast = pd.read_csv(output)
    stores = forecast[forecast["store_id"] != "total"]
    assert set(stores["product"]) == {"milk", "cheese"} and stores["store_id"].nunique() == 5
    by_day = forecast.set_index(["product", "store_id", "date"])["forecast"]
    for product in ("milk", "cheese"):
        summed = stores[stores["product"] == product].groupby("date")["forecast"].sum()
        assert np.allclose(by_day[product]["total"].loc[summed.index], summed)
    department = by_day["dairy"]["total"]
    assert np.allclose(department, by_day["milk"]["total"] + by_day["cheese"]["total"])
