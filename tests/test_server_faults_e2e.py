"""A shared tracking server that fails: lost mid-run, down for a few seconds, and a tracking URI
with credentials that must never show."""

from __future__ import annotations

import subprocess
import time

from grocery.config import load_config
from scripts.services import TrackingServer
from tests.conftest import Store, error_lines, succeeded
from tests.test_server_e2e import server_store, start_until_prepared

CATALOG = load_config()


def test_a_lost_server_fails_cleanly_and_a_rerun_reuses_finished_steps(tmp_path):
    server = TrackingServer(f"sqlite:///{tmp_path / 'mlflow.db'}", tmp_path).start()
    store = server_store(server, tmp_path)
    try:
        pipeline = start_until_prepared(store, "milk", store.env(
            MLFLOW_HTTP_REQUEST_MAX_RETRIES="1", MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR="0"))
        server.stop(crash=True)
        out, err = pipeline.communicate(timeout=600)
        assert pipeline.returncode != 0
        lost = [x for x in error_lines(subprocess.CompletedProcess([], 1, out, err))
                if "lost the tracking server" in x]
        assert lost and all(server.uri in x for x in lost)

        server.start()
        client = store.client
        name = CATALOG.product("milk").registered_model
        for version in client.search_model_versions(f"name = '{name}'"):
            assert {"train_run_id", "prepare_run_id", "data_digest"} <= version.tags.keys()
        rerun = succeeded(store.mlflow_run(product="milk"))
        assert "milk prepare: run " in rerun.stdout and " reused " in rerun.stdout
        experiment = client.get_experiment_by_name("Milk_Models")
        newest = client.search_runs([experiment.experiment_id],
                                    filter_string="tags.`grocery.step` = 'pipeline'",
                                    order_by=["attributes.start_time DESC"])[0]
        assert newest.info.status == "FINISHED"
        assert newest.data.tags["step.prepare.cached"] == "true"
        assert newest.data.tags["step.train.cached"] == "false"
    finally:
        server.stop()


def test_a_server_down_for_a_few_seconds_does_not_fail_a_step(tmp_path):
    server = TrackingServer(f"sqlite:///{tmp_path / 'mlflow.db'}", tmp_path).start()
    store = server_store(server, tmp_path)
    try:
        pipeline = start_until_prepared(store, "cheese", store.env())
        server.stop(crash=True)
        time.sleep(3)
        server.start()
        out, err = pipeline.communicate(timeout=600)
        assert pipeline.returncode == 0, f"{out}\n{err}"
    finally:
        server.stop()


def test_credentials_in_the_tracking_uri_never_show(sqlite_server, tmp_path):
    secret_uri = sqlite_server.uri.replace("http://", "http://alice:s3cr3t-token@")
    store = Store(uri=secret_uri, folder=tmp_path)
    # `mlflow run` itself prints the address of the run it made unless told not to (README).
    result = succeeded(store.mlflow_run(product="cheese",
                                        env={"MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true"}))
    assert "s3cr3t-token" not in result.stdout + result.stderr
    client = Store(uri=sqlite_server.uri, folder=tmp_path).client
    experiment = client.get_experiment_by_name("Cheese_Models")
    for run in client.search_runs([experiment.experiment_id]):
        logged = [*run.data.params.values(), *run.data.tags.values()]
        assert not any("s3cr3t-token" in value for value in logged)
    for version in client.search_model_versions("name = 'grocery-forecasting-cheese'"):
        assert not any("s3cr3t-token" in value for value in version.tags.values())
        assert "s3cr3t-token" not in (version.source or "")
    for path in sqlite_server.artifacts.rglob("*"):
        if path.is_file() and path.suffix in {"", ".json", ".yaml", ".txt", ".md", ".csv"}:
            assert b"s3cr3t-token" not in path.read_bytes(), path
