"""A step's run and its record against a real SQLite store: tags and scores written together,
failures ended with their reason, and the cache entry a step started by `main` leaves."""

from __future__ import annotations

import mlflow
import pytest
from mlflow.entities import RunStatus
from mlflow.environment_variables import (
    MLFLOW_EXPERIMENT_ID,
    MLFLOW_EXPERIMENT_NAME,
    MLFLOW_RUN_ID,
)
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import PERMISSION_DENIED

from grocery.cache import CACHE_KEY_ENV
from grocery.config import load_config
from grocery.errors import UserError
from grocery.names import (
    PREPARE,
    TAG_CACHE_KEY,
    TAG_CACHE_OUTPUT,
    TAG_CODE_DIGEST,
    TAG_DATA_DIGEST,
    TAG_ERROR,
    TAG_NOTE,
    TAG_PRODUCT,
    TAG_STEP,
    TRAIN,
)
from grocery.provenance import code_digest
from grocery.step_run import step_run
from grocery.tracking import DEFAULT_EXPERIMENT_ID, ensure_experiment

CATALOG = load_config()
PRODUCT = next(iter(CATALOG.products.values()))
FINISHED = RunStatus.to_string(RunStatus.FINISHED)
FAILED = RunStatus.to_string(RunStatus.FAILED)


@pytest.fixture
def in_product_experiment(tracking_store, monkeypatch):
    """Where `mlflow run` tells a step's process which experiment it runs in."""
    monkeypatch.setenv(MLFLOW_EXPERIMENT_ID.name,
                       ensure_experiment(tracking_store.client, CATALOG, PRODUCT))
    monkeypatch.delenv(CACHE_KEY_ENV, raising=False)


def test_the_record_waits_and_is_written_with_the_step_and_product(in_product_experiment,
                                                                   capsys):
    with step_run(TRAIN, PRODUCT, extra_tags={TAG_NOTE: "given at the start"}) as step:
        step.log({"rmse": 1.5}, params={"alpha": 2}, tags={TAG_DATA_DIGEST: "d1"})
        # Nothing is written yet: the record waits for the step's last request.
        waiting = mlflow.get_run(step.run_id).data
        assert TAG_STEP not in waiting.tags and "rmse" not in waiting.metrics
        assert step.tags[TAG_STEP] == TRAIN and step.params["alpha"] == "2"
    finished = mlflow.get_run(step.run_id)
    assert finished.info.status == FINISHED
    assert finished.data.metrics == {"rmse": 1.5}
    assert finished.data.params == {"alpha": "2"}
    tags = finished.data.tags
    assert (tags[TAG_STEP], tags[TAG_PRODUCT], tags[TAG_NOTE], tags[TAG_DATA_DIGEST]) == (
        TRAIN, PRODUCT.name, "given at the start", "d1")
    assert tags[TAG_CODE_DIGEST] == code_digest(TRAIN)
    assert TAG_CACHE_KEY not in tags  # a step run alone is no cache entry
    assert "Default experiment" not in capsys.readouterr().err


def test_the_run_mlflow_run_made_is_used_by_its_id_and_not_made_active(
        in_product_experiment, tracking_store, monkeypatch):
    # As `mlflow run` hands a step its run: created RUNNING, with its parameters, named by
    # $MLFLOW_RUN_ID.
    made = tracking_store.client.create_run(MLFLOW_EXPERIMENT_ID.get())
    tracking_store.client.log_param(made.info.run_id, "rows", "100")
    monkeypatch.setenv(MLFLOW_RUN_ID.name, made.info.run_id)
    with step_run(PREPARE, PRODUCT) as step:
        # No fluent active run: `mlflow.start_run` would read the run twice more.
        assert mlflow.active_run() is None
        assert step.run_id == made.info.run_id and step.params == {"rows": "100"}
        step.log({"rows_train": 80})
    ended = tracking_store.client.get_run(made.info.run_id)
    assert ended.info.status == FINISHED and ended.info.end_time is not None
    assert ended.data.metrics == {"rows_train": 80} and ended.data.tags[TAG_STEP] == PREPARE
    # A step interrupted ends its run FAILED too.
    monkeypatch.setenv(MLFLOW_RUN_ID.name, tracking_store.client.create_run(
        MLFLOW_EXPERIMENT_ID.get()).info.run_id)
    with pytest.raises(KeyboardInterrupt), step_run(PREPARE, PRODUCT) as step:
        raise KeyboardInterrupt
    assert tracking_store.client.get_run(step.run_id).info.status == FAILED


def test_a_record_the_store_refuses_at_the_end_leaves_the_run_failed(
        in_product_experiment, tracking_store, monkeypatch):
    # The step's last request fails (MLflow refuses to change a parameter `mlflow run` set):
    # the run ends FAILED, not RUNNING.
    made = tracking_store.client.create_run(MLFLOW_EXPERIMENT_ID.get())
    tracking_store.client.log_param(made.info.run_id, "rows", "100")
    monkeypatch.setenv(MLFLOW_RUN_ID.name, made.info.run_id)
    with pytest.raises(MlflowException), step_run(PREPARE, PRODUCT) as step:
        step.log(params={"rows": 200})
    assert tracking_store.client.get_run(step.run_id).info.status == FAILED


def test_a_step_started_by_hand_runs_in_the_experiment_named_in_the_environment(
        tracking_store, monkeypatch):
    # As `mlflow.start_run` would place it: $MLFLOW_EXPERIMENT_NAME when no id is given.
    monkeypatch.delenv(MLFLOW_EXPERIMENT_ID.name, raising=False)
    monkeypatch.delenv(MLFLOW_RUN_ID.name, raising=False)
    monkeypatch.setenv(MLFLOW_EXPERIMENT_NAME.name, PRODUCT.experiment)
    expected = ensure_experiment(tracking_store.client, CATALOG, PRODUCT)
    with step_run(TRAIN, PRODUCT) as step:
        pass
    assert tracking_store.client.get_run(step.run_id).info.experiment_id == expected


def test_flush_writes_what_waits_at_once(in_product_experiment):
    with step_run(TRAIN, PRODUCT) as step:
        step.log(tags={TAG_NOTE: "before the version exists"})
        step.flush()
        assert mlflow.get_run(step.run_id).data.tags[TAG_NOTE] == "before the version exists"
        assert mlflow.get_run(step.run_id).data.tags[TAG_STEP] == TRAIN


def test_a_step_given_a_key_ends_as_a_cache_entry(in_product_experiment, monkeypatch):
    monkeypatch.setenv(CACHE_KEY_ENV, "k-p")
    with step_run(PREPARE, PRODUCT) as step:
        step.log(tags={TAG_DATA_DIGEST: "d1"})
    tags = mlflow.get_run(step.run_id).data.tags
    assert tags[TAG_CACHE_KEY] == "k-p" and tags[TAG_CACHE_OUTPUT]

    # One that fails is not: its reason is recorded instead, with what it had logged.
    with pytest.raises(UserError), step_run(PREPARE, PRODUCT) as step:
        step.log(tags={TAG_DATA_DIGEST: "d1"})
        raise UserError("the table has no date column")
    failed = mlflow.get_run(step.run_id)
    assert failed.info.status == FAILED
    assert failed.data.tags[TAG_ERROR] == "the table has no date column"
    assert failed.data.tags[TAG_STEP] == PREPARE and TAG_CACHE_KEY not in failed.data.tags


def test_a_refused_request_ends_the_run_failed_with_its_reason(in_product_experiment):
    # The tracking server refusing a request (as MLflow raises a 403) ends the run FAILED.
    denied = MlflowException("API request to endpoint /api/2.0/mlflow/model-versions/create "
                             "failed with error code 403 != 200. Response body: 'Permission "
                             "denied'", error_code=PERMISSION_DENIED)
    with pytest.raises(UserError, match="refused to let you register a model version"), \
            step_run(TRAIN, PRODUCT) as step:
        raise denied
    failed = mlflow.get_run(step.run_id)
    assert failed.info.status == FAILED
    assert "register a model version" in failed.data.tags[TAG_ERROR]


def test_our_bug_ends_the_run_failed_and_keeps_its_traceback(in_product_experiment):
    with pytest.raises(ZeroDivisionError), step_run(TRAIN, PRODUCT) as step:
        1 / 0  # noqa: B018
    assert mlflow.get_run(step.run_id).info.status == FAILED


def test_a_run_in_the_default_experiment_says_where_it_belongs(tracking_store, monkeypatch,
                                                               capsys):
    monkeypatch.setenv(MLFLOW_EXPERIMENT_ID.name, DEFAULT_EXPERIMENT_ID)
    with step_run(TRAIN, PRODUCT):
        pass
    assert f"--experiment-name {PRODUCT.experiment}" in capsys.readouterr().err
