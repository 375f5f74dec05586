"""grocery.lineage, the one reader of a version's chain, on runs made in this process: a pipeline
parent with a prepare run (datasets, data digest) and a train run (code, params, metrics)."""

from __future__ import annotations

import json

import mlflow
import pandas as pd
import pytest

from grocery import reproduce
from grocery.config import load_config
from grocery.errors import UserError
from grocery.lineage import UNKNOWN, chain_record, check_format, read_chain, render, render_text
from grocery.names import (
    PIPELINE,
    PREPARE,
    TAG_DATA_DIGEST,
    TAG_GIT_COMMIT,
    TAG_GIT_DIRTY,
    TAG_GIT_REPO,
    TAG_GIT_REPO_URL,
    TAG_HYPERPARAMETERS,
    TAG_PREPARE_RUN,
    TAG_TRAIN_RUN,
    TRAIN,
    run_name,
)

PRODUCT = next(iter(load_config().products.values()))
COMMIT = "a" * 40
METRICS = {"mae": 1.5, "mse": 4.0, "rmse": 2.0, "r2": 0.75}


@pytest.fixture(scope="module")
def pipeline(tracking_store) -> dict[str, str]:
    """A parent run holding a prepare and a train run, and a version of the train run's model."""
    client = tracking_store.client
    experiment_id = client.create_experiment(
        PRODUCT.experiment, artifact_location=(tracking_store.folder / "artifacts").as_uri())
    with mlflow.start_run(experiment_id=experiment_id,
                          run_name=run_name(PRODUCT.name, PIPELINE)) as parent:
        with mlflow.start_run(run_name=run_name(PRODUCT.name, PREPARE), nested=True,
                              experiment_id=experiment_id) as prepare:
            # As `mlflow run` logs them: shell-quoted, '' for an empty one.
            mlflow.log_params({"product": PRODUCT.name, "rows": "120", "seed": "7",
                               "data": "''", "end_date": "'2024-01-31'"})
            mlflow.set_tag(TAG_DATA_DIGEST, "digest-1")
            frame = pd.DataFrame({"price": [1.0, 2.0]})
            mlflow.log_input(mlflow.data.from_pandas(frame, name=f"{PRODUCT.name}-training"),
                             context="training")
        with mlflow.start_run(run_name=run_name(PRODUCT.name, TRAIN), nested=True,
                              experiment_id=experiment_id) as train:
            mlflow.log_params({"model": "ridge", "alpha": "0.5"})
            mlflow.log_metrics(METRICS)
            mlflow.set_tags({TAG_PREPARE_RUN: prepare.info.run_id, TAG_GIT_COMMIT: COMMIT,
                             TAG_GIT_DIRTY: "false", TAG_GIT_REPO: "/src/project",
                             TAG_GIT_REPO_URL: "https://user:secret@example.invalid/p.git",
                             TAG_HYPERPARAMETERS: json.dumps({"alpha": 0.5,
                                                              "fit_intercept": True})})
    client.create_registered_model(PRODUCT.registered_model)
    version = client.create_model_version(
        PRODUCT.registered_model, source=f"runs:/{train.info.run_id}/model",
        run_id=train.info.run_id, tags={TAG_TRAIN_RUN: train.info.run_id})
    client.set_registered_model_alias(PRODUCT.registered_model, "best", version.version)
    return {"parent": parent.info.run_id, "prepare": prepare.info.run_id,
            "train": train.info.run_id, "version": str(version.version)}


def version(client, number: str):
    return client.get_model_version(PRODUCT.registered_model, number)


def test_the_chain_names_every_link(tracking_store, pipeline):
    chain = read_chain(tracking_store.client, version(tracking_store.client, pipeline["version"]))
    assert (chain.train.run_id, chain.prepare.run_id) == (pipeline["train"], pipeline["prepare"])
    assert chain.parent.run_id == pipeline["parent"]
    assert chain.train.found and chain.prepare.found and chain.parent.found
    assert chain.train.experiment == PRODUCT.experiment
    assert chain.git.repository == "/src/project"  # our tag first: no credentials
    assert (chain.git.commit, chain.git.dirty) == (COMMIT, "false")
    assert chain.data_digest == "digest-1"
    assert chain.train.metrics == METRICS

    record = chain_record(chain)
    assert record["model"]["aliases"] == ["best"]
    assert record["train_run"]["name"] == run_name(PRODUCT.name, TRAIN)
    assert record["train_run"]["params"] == {"alpha": "0.5", "model": "ridge"}
    assert record["parent_run"]["name"] == run_name(PRODUCT.name, PIPELINE)
    [dataset] = record["prepare_run"]["datasets"]
    assert (dataset["name"], dataset["context"]) == (f"{PRODUCT.name}-training", "training")
    assert json.loads(render(record, "json")) == record

    lines = render_text(record).splitlines()
    assert lines[0].split() == ["model", PRODUCT.registered_model, f"v{pipeline['version']}",
                                "@best"]
    assert (f"train    run {pipeline['train']} ({run_name(PRODUCT.name, TRAIN)}) FINISHED "
            f"in {PRODUCT.experiment}") in lines
    assert f"         commit {COMMIT} dirty false" in lines
    assert any(line.split()[:2] == ["dataset", f"{PRODUCT.name}-training"] for line in lines)


def test_missing_links_show_as_unknown(tracking_store, pipeline):
    client = tracking_store.client
    lost = client.create_model_version(PRODUCT.registered_model, source="/nowhere",
                                       tags={TAG_TRAIN_RUN: "0" * 32})
    chain = read_chain(client, lost)
    assert not chain.train.found and chain.train.run_id == "0" * 32
    assert chain.prepare.run_id == UNKNOWN and chain.parent is None
    assert (chain.git.repository, chain.git.commit, chain.git.dirty) == (UNKNOWN,) * 3
    assert chain.data_digest == UNKNOWN
    text = render_text(chain_record(chain))
    assert f"train    run {'0' * 32} (not found in this tracking store)" in text
    assert "prepare  run unknown (not found in this tracking store)" in text
    assert "parent   (none: not nested)" in text
    assert read_chain(client, client.create_model_version(
        PRODUCT.registered_model, source="/nowhere")).train.run_id == UNKNOWN


def test_the_versions_own_tags_stand_in_for_a_runs(tracking_store, pipeline):
    client = tracking_store.client
    with mlflow.start_run(experiment_id=client.get_run(pipeline["train"]).info.experiment_id) \
            as bare:  # a train run that recorded neither its prepare run nor git
        pass
    stand_in = client.create_model_version(
        PRODUCT.registered_model, source=f"runs:/{bare.info.run_id}/model",
        run_id=bare.info.run_id,
        tags={TAG_PREPARE_RUN: pipeline["prepare"], TAG_DATA_DIGEST: "digest-of-version"})
    chain = read_chain(client, stand_in)
    assert chain.prepare.run_id == pipeline["prepare"] and chain.prepare.found
    assert chain.data_digest == "digest-1"  # the prepare run's own record wins
    assert chain.git.commit == UNKNOWN
    with pytest.raises(UserError, match="records no git repository and commit"):
        reproduce.check_reproducible(chain)


def test_reproduce_rebuilds_from_the_same_chain(tracking_store, pipeline):
    chain = read_chain(tracking_store.client,
                       version(tracking_store.client, pipeline["version"]))
    reproduce.check_reproducible(chain)
    assert reproduce.prepare_parameters(chain) == {
        "product": PRODUCT.name, "rows": "120", "seed": "7", "end_date": "2024-01-31"}
    assert reproduce.train_parameters(chain) == {
        "model": "ridge", "alpha": "0.5", "fit_intercept": "True"}
    rows = reproduce.compare(chain, "digest-1", METRICS)
    assert [row[0] for row in rows] == ["data digest", *reproduce.METRICS]
    assert all(row[-1] for row in rows)


def test_only_text_and_json_formats():
    check_format("json")
    with pytest.raises(UserError, match="unknown format 'yaml'; valid formats: text, json"):
        check_format("yaml")
