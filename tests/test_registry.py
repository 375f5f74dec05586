"""grocery.registry against a real SQLite store: model references, resolving them, registering a
train run's model with its lineage tags, and the champion gate moving the alias."""

from __future__ import annotations

import time

import mlflow
import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LinearRegression

from grocery import registry
from grocery.config import load_config
from grocery.errors import UserError
from grocery.gate import GATE_FAILED, GATE_NO_CHAMPION, GATE_NOT_COMPARABLE, GATE_PASSED
from grocery.model_inputs import Column
from grocery.names import (
    ALIAS_CHALLENGER,
    ALIAS_CHAMPION,
    TAG_DATA_DIGEST,
    TAG_DEPARTMENT,
    TAG_GATE_DECISION,
    TAG_GIT_COMMIT,
    TAG_MODEL_REFERENCE,
    TAG_MODEL_URI,
    TAG_MODEL_VERSION,
    TAG_PREPARE_RUN,
    TAG_PRODUCT,
    TAG_PROJECT,
    TAG_REGISTER_RUN,
    TAG_REGISTERED_MODEL,
    TAG_STEP,
    TAG_TRAIN_RUN,
    TAG_VERSION_COMMIT,
    TRAIN,
    registered_model_name,
)
from grocery.registry import ModelRef, parse_model_ref, product_model_ref

CONFIG = load_config()
PRODUCT = next(iter(CONFIG.products.values()))
TARGET = "demand"
ROWS = pd.DataFrame({"price": np.linspace(1.0, 5.0, 40)}).assign(
    **{TARGET: lambda frame: 100.0 - 7.0 * frame["price"]})


# --- References.

@pytest.mark.parametrize(("text", "ref"), [
    ("grocery-forecasting-milk/3", ModelRef("grocery-forecasting-milk", version="3")),
    ("grocery-forecasting-milk@champion", ModelRef("grocery-forecasting-milk", alias="champion")),
    ("models:/m@challenger", ModelRef("m", alias="challenger")),
    (" m/12 ", ModelRef("m", version="12")),
])
def test_parse_model_ref(text, ref):
    assert parse_model_ref(text) == ref
    assert str(ref) in text


@pytest.mark.parametrize("text", ["grocery-forecasting-milk", "m/v1", "m@", "m/1@champion", ""])
def test_bad_model_ref_says_the_two_forms(text):
    with pytest.raises(UserError, match="is not <name>/<version> or <name>@<alias>"):
        parse_model_ref(text)


def test_product_model_ref_prefers_the_version():
    name = registered_model_name(PRODUCT.name)
    assert product_model_ref(PRODUCT.name, alias=ALIAS_CHAMPION, version="2") == ModelRef(
        name, version="2")
    assert product_model_ref(PRODUCT.name, alias=ALIAS_CHAMPION) == ModelRef(
        name, alias=ALIAS_CHAMPION)
    with pytest.raises(UserError, match="model_version must be a version number"):
        product_model_ref(PRODUCT.name, version="latest")
    with pytest.raises(UserError, match="give a model_alias"):
        product_model_ref(PRODUCT.name)


def test_catalog_product_of_a_reference():
    for product in CONFIG.products.values():
        assert registry.catalog_product(CONFIG, ModelRef(product.registered_model, "1")) == product
    assert registry.catalog_product(CONFIG, ModelRef("someone-elses-model", "1")) is None


# --- A store with a product's registered model, built from real train runs.

@pytest.fixture(scope="module")
def experiment_id(tracking_store) -> str:
    return tracking_store.client.create_experiment(
        PRODUCT.experiment, artifact_location=(tracking_store.folder / "artifacts").as_uri())


def train_run(experiment_id: str, estimator, **tags: str) -> mlflow.entities.Run:
    """A finished train run that logged ``estimator`` (fitted on ROWS) as the step does."""
    features = ROWS[["price"]]
    estimator.fit(features, ROWS[TARGET])
    with mlflow.start_run(experiment_id=experiment_id) as run:
        info = mlflow.sklearn.log_model(estimator, name="model", input_example=features.head(3))
        rmse = float(np.sqrt(np.mean((estimator.predict(features) - ROWS[TARGET]) ** 2)))
        mlflow.log_metrics({"rmse": rmse, "mae": rmse})
        mlflow.set_tags({TAG_STEP: TRAIN, TAG_PRODUCT: PRODUCT.name,
                         TAG_MODEL_URI: info.model_uri, TAG_PREPARE_RUN: "p" * 32,
                         TAG_DATA_DIGEST: "d1", TAG_GIT_COMMIT: "c" * 40, **tags})
    return mlflow.get_run(run.info.run_id)


@pytest.fixture(scope="module")
def weak_run(experiment_id):
    return train_run(experiment_id, DummyRegressor())


@pytest.fixture(scope="module")
def strong_run(experiment_id):
    return train_run(experiment_id, LinearRegression())


def register(client, run) -> mlflow.entities.model_registry.ModelVersion:
    """``run``'s model as a new version, as the register step makes it (its run ends first)."""
    name = registry.ensure_registered_model(client, CONFIG, PRODUCT)
    with mlflow.start_run(experiment_id=run.info.experiment_id) as register_run:
        return registry.register_version(name, run, PRODUCT, register_run.info.run_id)


def test_a_version_carries_its_lineage_tags(tracking_store, weak_run):
    client = tracking_store.client
    version = register(client, weak_run)
    assert version.name == PRODUCT.registered_model
    tags = client.get_model_version(version.name, version.version).tags
    assert tags[TAG_TRAIN_RUN] == weak_run.info.run_id
    assert tags[TAG_PREPARE_RUN] == weak_run.data.tags[TAG_PREPARE_RUN]
    assert tags[TAG_DATA_DIGEST] == "d1"
    assert tags[TAG_VERSION_COMMIT] == "c" * 40
    assert (tags[TAG_PRODUCT], tags[TAG_DEPARTMENT]) == (PRODUCT.name, PRODUCT.department)
    assert float(tags["rmse"]) == weak_run.data.metrics["rmse"]
    assert client.get_run(tags[TAG_REGISTER_RUN]).info.status == "FINISHED"
    model = client.get_registered_model(version.name)
    assert model.tags == {TAG_PRODUCT: PRODUCT.name, TAG_DEPARTMENT: PRODUCT.department,
                          TAG_PROJECT: CONFIG.project}
    assert registry.ensure_registered_model(client, CONFIG, PRODUCT) == version.name

    resolved = registry.resolve(client, ModelRef(version.name, version=version.version))
    assert (resolved.name, resolved.version) == (version.name, version.version)
    assert [c.name for c in registry.input_columns(version)] == ["price"]
    assert registry.input_columns(version)[0] == Column("price", "double")
    assert registry.reference_tags(version, ModelRef(version.name, alias="x")) == {
        TAG_REGISTERED_MODEL: version.name, TAG_MODEL_VERSION: str(version.version),
        TAG_MODEL_REFERENCE: f"{version.name}@x"}
    assert str(registry.version_ref(version)) == f"{version.name}/{version.version}"


def test_resolve_says_what_is_missing(tracking_store, weak_run):
    client = tracking_store.client
    name = registry.ensure_registered_model(client, CONFIG, PRODUCT)
    with pytest.raises(UserError, match=r"^no registered model 'absent' in this tracking store "
                                        rf"\({tracking_store.uri}\); run the pipeline first$"):
        registry.resolve(client, ModelRef("absent", version="1"))
    with pytest.raises(UserError, match=rf"^registered model '{name}' has no version 99$"):
        registry.resolve(client, ModelRef(name, version="99"))
    with pytest.raises(UserError, match=rf"^registered model '{name}' has no alias 'gold'$"):
        registry.resolve(client, ModelRef(name, alias="gold"))


def test_only_a_finished_train_run_can_be_registered(tracking_store, experiment_id, weak_run):
    client = tracking_store.client
    assert registry.finished_train_run(client, weak_run.info.run_id).info.run_id == \
        weak_run.info.run_id
    with pytest.raises(UserError, match="does not exist in this tracking store"):
        registry.finished_train_run(client, "0" * 32)
    other = client.create_run(experiment_id, tags={TAG_STEP: "prepare"})
    with pytest.raises(UserError, match=r"is not a train run \(it is a prepare run\)"):
        registry.finished_train_run(client, other.info.run_id)
    running = client.create_run(experiment_id, tags={TAG_STEP: TRAIN})
    with pytest.raises(UserError, match="is RUNNING, not FINISHED"):
        registry.finished_train_run(client, running.info.run_id)


# --- The gate on real versions: the alias moves only on a strictly lower rmse.

def gated(client, run):
    version = register(client, run)
    decision = registry.gate_version(client, version, CONFIG.gate, ROWS, TARGET)
    registry.record_decision(client, version, decision.decision)
    return version, decision


def champion_of(client) -> str:
    return str(client.get_model_version_by_alias(PRODUCT.registered_model, ALIAS_CHAMPION)
               .version)


def test_champion_moves_only_on_a_strictly_lower_rmse(tracking_store, weak_run, strong_run):
    client = tracking_store.client
    for version in client.search_model_versions(f"name = '{PRODUCT.registered_model}'"):
        client.delete_model_version(version.name, version.version)  # start without a champion

    first, decision = gated(client, weak_run)
    assert (decision.alias, decision.decision) == (ALIAS_CHAMPION, GATE_NO_CHAMPION)
    assert champion_of(client) == str(first.version)

    better, decision = gated(client, strong_run)
    assert (decision.alias, decision.decision) == (ALIAS_CHAMPION, GATE_PASSED)
    assert decision.champion_version == str(first.version)
    assert decision.candidate["rmse"] < decision.champion["rmse"]
    assert champion_of(client) == str(better.version)

    same, decision = gated(client, strong_run)  # equal rmse: not an improvement
    assert (decision.alias, decision.decision) == (ALIAS_CHALLENGER, GATE_FAILED)
    assert champion_of(client) == str(better.version)
    worse, decision = gated(client, weak_run)
    assert (decision.alias, decision.decision) == (ALIAS_CHALLENGER, GATE_FAILED)
    assert champion_of(client) == str(better.version)
    challenger = client.get_model_version_by_alias(PRODUCT.registered_model, ALIAS_CHALLENGER)
    assert str(challenger.version) == str(worse.version)
    assert client.get_model_version(worse.name, worse.version).tags[TAG_GATE_DECISION] == \
        GATE_FAILED

    # A champion that cannot score the rows leaves the decision to a person.
    version = register(client, weak_run)
    decision = registry.gate_version(client, version, CONFIG.gate,
                                     ROWS.rename(columns={"price": "cost"}), TARGET)
    assert (decision.alias, decision.decision) == (ALIAS_CHALLENGER, GATE_NOT_COMPARABLE)
    assert champion_of(client) == str(better.version)


def test_waiting_for_earlier_decisions_returns_at_once_when_none_is_pending(
        tracking_store, weak_run):
    client = tracking_store.client
    version = register(client, weak_run)  # every earlier register run has ended
    started = time.monotonic()
    assert registry.wait_for_earlier_decisions(client, version, timeout=30, poll=5) == []
    assert time.monotonic() - started < 5


def test_an_earlier_undecided_registration_is_waited_for_then_passed_over(
        tracking_store, weak_run):
    client = tracking_store.client
    name = registry.ensure_registered_model(client, CONFIG, PRODUCT)
    register_run = client.create_run(weak_run.info.experiment_id)  # still RUNNING
    earlier = mlflow.register_model(weak_run.data.tags[TAG_MODEL_URI], name,
                                    tags={TAG_REGISTER_RUN: register_run.info.run_id})
    later = register(client, weak_run)
    assert registry.wait_for_earlier_decisions(client, later, timeout=0.2, poll=0.05) == [
        str(earlier.version)]
    registry.record_decision(client, earlier, GATE_PASSED)
    assert registry.wait_for_earlier_decisions(client, later, timeout=0.2, poll=0.05) == []
