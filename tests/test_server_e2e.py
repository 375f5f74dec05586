"""A shared tracking server: the catalog on SQLite and PostgreSQL, and concurrent users (its faults
are in tests/test_server_faults_e2e.py)."""

from __future__ import annotations

import subprocess

import mlflow
import pandas as pd

from grocery.config import load_config
from grocery.names import ALL_PRODUCTS
from scripts.services import TrackingServer
from tests.conftest import SHORT, Store, succeeded

CATALOG = load_config()


def server_store(server: TrackingServer, tmp_path) -> Store:
    return Store(uri=server.uri, folder=tmp_path)


def start_until_prepared(store: Store, product: str, env: dict) -> subprocess.Popen:
    """Start a pipeline; return once its prepare step reports it finished (its run ended)."""
    pipeline = subprocess.Popen(store.mlflow_run_command(product=product, **SHORT), env=env,
                                cwd=store.folder, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    for line in pipeline.stdout:
        if line.startswith(f"{product} prepare: run "):
            break
    return pipeline


# The whole catalog, two products at a time, on PostgreSQL. On a SQLite-backed server the
# whole catalog runs to the end, two at a time, in tests/test_server_lost_e2e.py's rerun.
def test_the_catalog_against_a_postgresql_server(postgres_server, tmp_path):
    server: TrackingServer = postgres_server
    store = server_store(server, tmp_path)
    result = succeeded(store.mlflow_run(product=ALL_PRODUCTS, max_parallel=2, **SHORT))
    client = store.client
    products = CATALOG.resolve(ALL_PRODUCTS)
    for product in products:
        experiment = client.get_experiment_by_name(product.experiment)
        parents = client.search_runs([experiment.experiment_id],
                                     filter_string="tags.`grocery.step` = 'pipeline'")
        assert [p.info.status for p in parents] == ["FINISHED"]
        assert f"{product.name} " in result.stdout
    # Artifacts went through the server into its mlartifacts folder.
    assert len(list(server.artifacts.rglob("train.parquet"))) == len(products)
    assert len(list(server.artifacts.rglob("MLmodel"))) >= len(products)

    # Each champion loads over HTTP by alias and forecasts its backtest's first days from the
    # training days before them.
    mlflow.set_tracking_uri(server.uri)
    try:
        for product in products:
            version = client.get_model_version_by_alias(product.registered_model, "champion")
            model = mlflow.pyfunc.load_model(f"models:/{product.registered_model}@champion")
            folder = mlflow.artifacts.download_artifacts(
                f"runs:/{version.tags['prepare_run_id']}/data")
            train = pd.read_parquet(f"{folder}/train.parquet")
            days = pd.read_parquet(f"{folder}/validation.parquet").head(14)
            future = days.assign(demand=float("nan"))
            answer = model.predict(pd.concat([train, future], ignore_index=True))
            assert list(answer["date"]) == list(days["date"])
    finally:
        mlflow.set_tracking_uri(None)


def test_three_users_at_once_leave_one_champion_with_the_lowest_rmse(postgres_server, tmp_path):
    store = server_store(postgres_server, tmp_path)
    name = CATALOG.product("milk").registered_model
    before = {v.version for v in store.client.search_model_versions(f"name = '{name}'")}
    users = [
        subprocess.Popen(
            [*store.mlflow_run_command(entry_point="main", product="milk",
                                       model="random_forest", max_depth=depth, **SHORT)],
            env=store.env(), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        for depth in (3, 4, 5)
    ]
    outputs = [user.communicate(timeout=900) for user in users]
    for user, (out, err) in zip(users, outputs, strict=True):
        assert user.returncode == 0, f"{out}\n{err}"
    client = store.client
    versions = client.search_model_versions(f"name = '{name}'")
    assert len({v.version for v in versions} - before) == len(users)
    for version in versions:
        assert {"train_run_id", "prepare_run_id", "data_digest", "rmse"} <= version.tags.keys()
    # An alias names one version; search results leave aliases out, so read each version.
    holders = [v.version for v in versions
               if "champion" in client.get_model_version(name, v.version).aliases]
    champion = client.get_model_version_by_alias(name, "champion")
    assert holders == [champion.version]
    assert float(champion.tags["rmse"]) == min(float(v.tags["rmse"]) for v in versions)
    # Decisions were made one version after another.
    assert all(v.tags.get("gate_decision") for v in versions)
