"""MLflow tracking for the steps, against a real SQLite store: product experiments, step runs,
failed runs, and the env manager nested steps inherit."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from urllib.parse import urlparse

import mlflow
import pytest
from mlflow.entities import RunStatus

from grocery.config import load_config
from grocery.errors import UserError
from grocery.names import (
    TAG_ENV,
    TAG_ERROR,
    TAG_NOTE,
    TAG_SCRATCH,
)
from grocery.tracking import (
    DEFAULT_EXPERIMENT_ID,
    VERBOSE_ENV,
    configure_mlflow,
    ensure_experiment,
    env_manager_of,
    fail_run,
    log_record,
    run_location,
    scratch_experiment,
)

CATALOG = load_config()
PRODUCT = next(iter(CATALOG.products.values()))


def test_ensure_experiment_creates_it_with_tags_and_reapplies_them(tracking_store):
    client = tracking_store.client
    experiment_id = ensure_experiment(client, CATALOG, PRODUCT)
    experiment = client.get_experiment(experiment_id)
    assert experiment.name == PRODUCT.experiment
    assert CATALOG.experiment_tags(PRODUCT).items() <= experiment.tags.items()
    # Beside the store's database, not in the folder the process runs in.
    assert Path(urlparse(experiment.artifact_location).path).parent.parent == tracking_store.folder

    client.set_experiment_tag(experiment_id, TAG_NOTE, "edited by hand")
    assert ensure_experiment(client, CATALOG, PRODUCT) == experiment_id
    assert client.get_experiment(experiment_id).tags[TAG_NOTE] == CATALOG.experiment_tags(
        PRODUCT)[TAG_NOTE]

    client.delete_experiment(experiment_id)
    with pytest.raises(UserError, match="mlflow experiments restore"):
        ensure_experiment(client, CATALOG, PRODUCT)
    client.restore_experiment(experiment_id)


def test_env_manager_of_the_run_mlflow_run_made(tracking_store):
    client = tracking_store.client
    assert env_manager_of(None) == "local"
    for tag, expected in (("uv", "uv"), ("virtualenv", "virtualenv"), ("docker", "local")):
        run_id = client.create_run(DEFAULT_EXPERIMENT_ID, tags={TAG_ENV: tag}).info.run_id
        assert env_manager_of(client.get_run(run_id)) == expected
    assert env_manager_of(client.create_run(DEFAULT_EXPERIMENT_ID)) == "local"


def test_fail_run_scratch_experiment_and_run_location(tracking_store):
    client = tracking_store.client
    scratch = scratch_experiment(client, "scratch")
    assert scratch_experiment(client, "scratch") == scratch
    assert client.get_experiment(scratch).tags[TAG_SCRATCH] == "true"
    run = client.create_run(scratch)
    fail_run(client, run.info.run_id, "lost http://alice:s3cr3t@127.0.0.1:1/api")
    failed = client.get_run(run.info.run_id)
    assert failed.info.status == RunStatus.to_string(RunStatus.FAILED)
    assert failed.data.tags[TAG_ERROR] == "lost http://127.0.0.1:1/api"
    assert run_location(failed) == f"experiment {scratch} in {tracking_store.uri}"


def test_log_record_writes_metrics_params_and_tags(tracking_store):
    with mlflow.start_run() as run:
        log_record(run.info.run_id, {"rmse": 2.5}, {"alpha": 1.0}, {TAG_NOTE: "batched"})
    logged = mlflow.get_run(run.info.run_id).data
    assert (logged.metrics, logged.params, logged.tags[TAG_NOTE]) == (
        {"rmse": 2.5}, {"alpha": "1.0"}, "batched")


def test_mlflow_is_quiet_unless_verbose_is_asked(monkeypatch):
    for name in ("MLFLOW_LOGGING_LEVEL", VERBOSE_ENV):
        monkeypatch.delenv(name, raising=False)
    configure_mlflow()
    # This process and the steps it starts (they read the variable when importing mlflow).
    assert os.environ["MLFLOW_LOGGING_LEVEL"] == "WARNING"
    assert logging.getLogger("mlflow").getEffectiveLevel() == logging.WARNING
    monkeypatch.delenv("MLFLOW_LOGGING_LEVEL")
    monkeypatch.setenv(VERBOSE_ENV, "true")
    logging.getLogger("mlflow").setLevel(logging.INFO)
    configure_mlflow()
    assert "MLFLOW_LOGGING_LEVEL" not in os.environ
    assert logging.getLogger("mlflow").getEffectiveLevel() == logging.INFO
