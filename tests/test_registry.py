"""grocery.registry against a real SQLite store: model references, resolving them, registering a
train run's model with its lineage tags, and the champion gate moving the alias."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from sklearn.linear_model import LinearRegression

from grocery import registry
from grocery.config import load_config
from grocery.dataset import continue_sales, simulate_sales, split_sales
from grocery.errors import UserError, lost_connection
from grocery.evaluation import model_backtest, scores
from grocery.gate import (
    GATE_ABANDONED,
    GATE_FAILED,
    GATE_NO_CHAMPION,
    GATE_NOT_COMPARABLE,
    GATE_PASSED,
    GateDecision,
)
from grocery.liveness import process_identity
from grocery.model_inputs import Column
from grocery.names import (
    ALIAS_CHALLENGER,
    ALIAS_CHAMPION,
    DIRECT,
    PREPARE,
    SCORES,
    TAG_DATA_DIGEST,
    TAG_DEPARTMENT,
    TAG_ERROR,
    TAG_FORECAST_STRATEGY,
    TAG_GATE_DECISION,
    TAG_GATE_REASON,
    TAG_GIT_COMMIT,
    TAG_HYPERPARAMETERS,
    TAG_MODEL_REFERENCE,
    TAG_MODEL_URI,
    TAG_MODEL_VERSION,
    TAG_PREPARE_RUN,
    TAG_PROCESS,
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
from grocery.prepared import (
    SYNTHETIC,
    PreparedData,
    load_prepared_table,
    log_prepared,
    prepared_uri,
)
from grocery.registry import MODEL_PARAM, SEED_PARAM, ModelRef, parse_model_ref, product_model_ref
from grocery.training import forecast_spec
from tests.conftest import PROJECT_DIR

CONFIG = load_config()
PRODUCT = next(iter(CONFIG.products.values()))
TARGET = "demand"
SEED, HORIZON, FOLDS = 9999, 14, 2
WEAK_ALPHA = 1e6
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


# --- A store with a product's registered model, built from real prepare and train runs.

@pytest.fixture(scope="module")
def experiment_id(tracking_store) -> str:
    return tracking_store.client.create_experiment(
        PRODUCT.experiment, artifact_location=(tracking_store.folder / "artifacts").as_uri())


@pytest.fixture(scope="module")
def prepare_run(experiment_id) -> mlflow.entities.Run:
    """A finished prepare run that logged the product's synthetic sales as prepare does."""
    sales, _ = simulate_sales(CONFIG.generators[PRODUCT.name], 120, "2023-10-03", SEED)
    train, validation = split_sales(sales, 0.25)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_param(SEED_PARAM, SEED)
        mlflow.set_tag(TAG_STEP, PREPARE)
        record = PreparedData(
            product=PRODUCT.name, department=PRODUCT.department,
            prepare_run_id=run.info.run_id, data_digest="d1",
            digests={"training": "t", "validation": "v"}, source=SYNTHETIC, horizon=HORIZON,
            folds=FOLDS, known_ahead=list(CONFIG.synthetic_known_ahead),
            observed=list(CONFIG.synthetic_observed), target_lags={"previous_days_demand": 1})
        log_prepared(run, train, validation, record)
    return mlflow.get_run(run.info.run_id)


@pytest.fixture(scope="module")
def prepared_table(prepare_run) -> tuple[pd.DataFrame, PreparedData]:
    return load_prepared_table(prepared_uri(prepare_run.info.run_id))


def train_run(experiment_id: str, alpha: float, prepare_run_id: str = "p" * 32,
              **tags: str) -> mlflow.entities.Run:
    """A finished train run with the records train writes (param ``model``, hyperparameters and
    strategy tags, its prepare run) for a ridge of ``alpha``; its logged model is any model,
    since the gate loads none."""
    features = ROWS[["price"]]
    estimator = LinearRegression().fit(features, ROWS[TARGET])
    with mlflow.start_run(experiment_id=experiment_id) as run:
        info = mlflow.sklearn.log_model(estimator, name="model", input_example=features.head(3))
        mlflow.log_metrics({"rmse": alpha, "mae": alpha})
        mlflow.log_param(MODEL_PARAM, "ridge")
        mlflow.set_tags({TAG_STEP: TRAIN, TAG_PRODUCT: PRODUCT.name,
                         TAG_MODEL_URI: info.model_uri, TAG_PREPARE_RUN: prepare_run_id,
                         TAG_DATA_DIGEST: "d1", TAG_GIT_COMMIT: "c" * 40,
                         TAG_HYPERPARAMETERS: json.dumps({"alpha": alpha}),
                         TAG_FORECAST_STRATEGY: DIRECT, **tags})
    return mlflow.get_run(run.info.run_id)


@pytest.fixture(scope="module")
def weak_run(experiment_id, prepare_run):
    return train_run(experiment_id, WEAK_ALPHA, prepare_run.info.run_id)


@pytest.fixture(scope="module")
def strong_run(experiment_id):
    # No data of its own (its prepare run does not exist): as champion it is backtested on the
    # candidate's rows.
    return train_run(experiment_id, 1.0)


def register(client, run) -> mlflow.entities.model_registry.ModelVersion:
    """``run``'s model as a new version, as the register step makes it (its run ends first)."""
    name = registry.ensure_registered_model(client, CONFIG, PRODUCT)
    with mlflow.start_run(experiment_id=run.info.experiment_id) as register_run:
        return registry.register_version(client, name, run, PRODUCT, register_run.info.run_id)


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


# --- The gate on real versions: both configurations backtested on the candidate's folds.

def gated(client, run, table_and_prepared):
    version = register(client, run)
    decision, _ = registry.gate_version(client, version, CONFIG,
                                        registry.trained_configuration(run),
                                        lambda: table_and_prepared)
    registry.record_decision(client, version, decision.decision)
    return version, decision


def champion_of(client) -> str:
    return str(client.get_model_version_by_alias(PRODUCT.registered_model, ALIAS_CHAMPION)
               .version)


def backtested(alpha: float, table_and_prepared) -> dict[str, float]:
    """A ridge of ``alpha`` backtested on the candidate's table and folds, computed here."""
    table, prepared = table_and_prepared
    spec = forecast_spec(prepared, DIRECT)
    return scores(model_backtest(CONFIG.model("ridge"), {"alpha": alpha}, table, spec,
                                 prepared.folds))


def test_a_worse_configuration_does_not_take_the_champion(tracking_store, strong_run, weak_run,
                                                           prepared_table):
    client = tracking_store.client
    for version in client.search_model_versions(f"name = '{PRODUCT.registered_model}'"):
        client.delete_model_version(version.name, version.version)  # start without a champion

    first, decision = gated(client, strong_run, prepared_table)
    assert (decision.alias, decision.decision) == (ALIAS_CHAMPION, GATE_NO_CHAMPION)
    assert champion_of(client) == str(first.version)
    assert set(decision.candidate) == set(SCORES)

    worse, decision = gated(client, weak_run, prepared_table)
    assert (decision.alias, decision.decision) == (ALIAS_CHALLENGER, GATE_FAILED)
    assert champion_of(client) == str(first.version)
    assert decision.champion_version == str(first.version)
    # The champion, with no data of its own, was refitted on the candidate's folds.
    assert decision.champion == backtested(1.0, prepared_table)
    assert decision.candidate == backtested(WEAK_ALPHA, prepared_table)
    assert decision.candidate["rmse"] > decision.champion["rmse"]
    challenger = client.get_model_version_by_alias(PRODUCT.registered_model, ALIAS_CHALLENGER)
    assert str(challenger.version) == str(worse.version)
    assert client.get_model_version(worse.name, worse.version).tags[TAG_GATE_DECISION] == \
        GATE_FAILED

    same, decision = gated(client, strong_run, prepared_table)  # equal rmse: no improvement
    assert (decision.alias, decision.decision) == (ALIAS_CHALLENGER, GATE_FAILED)
    assert decision.candidate == decision.champion
    assert champion_of(client) == str(first.version)


def test_a_better_configuration_takes_the_champion(tracking_store, strong_run, weak_run,
                                                   prepared_table):
    client = tracking_store.client
    weak = register(client, weak_run)
    client.set_registered_model_alias(weak.name, ALIAS_CHAMPION, weak.version)
    better, decision = gated(client, strong_run, prepared_table)
    assert (decision.alias, decision.decision) == (ALIAS_CHAMPION, GATE_PASSED)
    assert decision.champion_version == str(weak.version)
    assert decision.candidate["rmse"] < decision.champion["rmse"]
    assert champion_of(client) == str(better.version)


@pytest.mark.parametrize("loss", ["deleted", "no-hyperparameters"])
def test_a_champion_without_its_records_is_not_comparable(tracking_store, experiment_id,
                                                          strong_run, prepared_table, loss):
    client = tracking_store.client
    lost = train_run(experiment_id, 1.0)
    if loss == "deleted":
        client.delete_run(lost.info.run_id)
        says = f"its train run {lost.info.run_id} is deleted"
    else:
        client.delete_tag(lost.info.run_id, TAG_HYPERPARAMETERS)
        says = f"train run {lost.info.run_id} has no tag {TAG_HYPERPARAMETERS}"
    old = register(client, lost)
    client.set_registered_model_alias(old.name, ALIAS_CHAMPION, old.version)
    version, decision = gated(client, strong_run, prepared_table)
    assert (decision.alias, decision.decision) == (ALIAS_CHALLENGER, GATE_NOT_COMPARABLE)
    assert says in decision.reason
    assert champion_of(client) == str(old.version)


def test_a_train_run_without_its_records_cannot_be_a_candidate(experiment_id):
    run = train_run(experiment_id, 1.0)
    record = mlflow.entities.Run(run.info, mlflow.entities.RunData(
        metrics=[], params=[], tags=[mlflow.entities.RunTag(k, v)
                                     for k, v in run.data.tags.items()]))
    with pytest.raises(UserError, match=f"train run {run.info.run_id} has no param 'model'"):
        registry.trained_configuration(record)
    assert registry.trained_configuration(run) == registry.TrainedConfiguration(
        "ridge", {"alpha": 1.0}, DIRECT)


# --- The data behind a version, and the days after it.

def test_a_catalog_version_continues_with_the_days_after_its_data(tracking_store, weak_run,
                                                                  prepare_run, prepared_table):
    client = tracking_store.client
    version = register(client, weak_run)
    table, actual = registry.catalog_continuation(client, CONFIG, version)
    history, prepared = prepared_table
    assert len(table) == len(history) + HORIZON
    pd.testing.assert_frame_equal(table.head(len(history)), history)
    future = table.tail(HORIZON)
    assert future["demand"].isna().all()
    for column in (*prepared.observed, *prepared.target_lags):
        assert future[column].isna().all()
    after = continue_sales(CONFIG.generators[PRODUCT.name], history, HORIZON, SEED)
    for column in prepared.known_ahead:
        np.testing.assert_array_equal(future[column], after[column])
    assert list(actual.columns) == ["date", registry.ACTUAL]
    np.testing.assert_array_equal(actual[registry.ACTUAL], after["demand"])

    forecast = pd.DataFrame({"date": actual["date"].iloc[::-1], "forecast": 1.0})
    joined = registry.with_actual(forecast, actual)
    assert list(joined[registry.ACTUAL]) == list(actual[registry.ACTUAL].iloc[::-1])
    assert registry.with_actual(forecast, None) is forecast


def test_a_model_outside_the_catalog_needs_an_input(tracking_store, weak_run):
    client = tracking_store.client
    run_id = weak_run.info.run_id
    version = mlflow.register_model(weak_run.data.tags[TAG_MODEL_URI], "oat-milk-model",
                                    tags={TAG_TRAIN_RUN: run_id})
    with pytest.raises(UserError, match=r"not a catalog product's model.*pass -P input="):
        registry.catalog_continuation(client, CONFIG, version)
    assert registry.predict_product(CONFIG, PRODUCT.name) == PRODUCT
    assert registry.predict_product(CONFIG, "oat-milk").registered_model == \
        registered_model_name("oat-milk")


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
    register_run = client.create_run(weak_run.info.experiment_id)  # still RUNNING, no process
    earlier = mlflow.register_model(weak_run.data.tags[TAG_MODEL_URI], name,
                                    tags={TAG_REGISTER_RUN: register_run.info.run_id})
    later = register(client, weak_run)
    started = time.monotonic()
    assert registry.wait_for_earlier_decisions(client, later, timeout=1, poll=0.05) == [
        str(earlier.version)]
    assert time.monotonic() - started < 10  # until it had been RUNNING for over a second
    tags = client.get_model_version(name, earlier.version).tags
    assert tags[TAG_GATE_DECISION] == GATE_ABANDONED
    assert tags[TAG_GATE_REASON].endswith(f"s, more than {registry.GATE_WAIT_ENV}=1")
    registry.record_decision(client, earlier, GATE_PASSED)
    assert registry.wait_for_earlier_decisions(client, later, timeout=0.2, poll=0.05) == []


def pending_version(client, run, register_run_id: str):
    """A version of ``run``'s model whose register run is ``register_run_id``, undecided."""
    name = registry.ensure_registered_model(client, CONFIG, PRODUCT)
    return mlflow.register_model(run.data.tags[TAG_MODEL_URI], name,
                                 tags={TAG_REGISTER_RUN: register_run_id})


def test_a_version_whose_register_run_cannot_decide_is_abandoned_at_once(tracking_store,
                                                                         weak_run):
    client = tracking_store.client
    experiment_id = weak_run.info.experiment_id
    deleted, failed, killed = (client.create_run(experiment_id) for _ in range(3))
    client.delete_run(deleted.info.run_id)
    client.set_terminated(failed.info.run_id, "FAILED")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    client.set_tag(killed.info.run_id, TAG_PROCESS, process_identity(dead.pid))
    says = {"0" * 32: "is not in this tracking store", deleted.info.run_id: "is deleted",
            failed.info.run_id: "ended FAILED without a decision",
            killed.info.run_id: "is RUNNING but its process is gone"}
    versions = [pending_version(client, weak_run, run_id) for run_id in says]
    later = register(client, weak_run)
    started = time.monotonic()
    passed_over = registry.wait_for_earlier_decisions(client, later, timeout=600)
    assert time.monotonic() - started < 10
    assert {str(v.version) for v in versions} <= set(passed_over)
    for version, (run_id, reason) in zip(versions, says.items(), strict=True):
        tags = client.get_model_version(version.name, version.version).tags
        assert tags[TAG_GATE_DECISION] == GATE_ABANDONED
        assert tags[TAG_GATE_REASON] == f"its register run {run_id} {reason}"
    ended = client.get_run(killed.info.run_id)  # provably dead: no longer shown RUNNING
    assert ended.info.status == "FAILED" and GATE_ABANDONED in ended.data.tags[TAG_ERROR]


def test_the_wait_is_configurable(monkeypatch):
    monkeypatch.delenv(registry.GATE_WAIT_ENV, raising=False)
    assert registry.gate_wait_seconds() == 600
    monkeypatch.setenv(registry.GATE_WAIT_ENV, "2.5")
    assert registry.gate_wait_seconds() == 2.5
    for bad in ("soon", "-1", "nan", "inf"):
        monkeypatch.setenv(registry.GATE_WAIT_ENV, bad)
        with pytest.raises(UserError, match=f"{registry.GATE_WAIT_ENV} must be a number"):
            registry.gate_wait_seconds()


def test_a_register_run_killed_mid_wait_holds_up_no_later_registration(
        tracking_store, weak_run, prepared_table):
    client = tracking_store.client
    name = registry.ensure_registered_model(client, CONFIG, PRODUCT)
    # An earlier registration still deciding, in a live process (this one): the step waits.
    deciding = client.create_run(weak_run.info.experiment_id,
                                 tags={TAG_PROCESS: process_identity()})
    earlier = pending_version(client, weak_run, deciding.info.run_id)
    step = subprocess.Popen(
        [sys.executable, "-m", "steps.register", "--train-run-id", weak_run.info.run_id],
        cwd=PROJECT_DIR, env=tracking_store.env(MLFLOW_EXPERIMENT_ID=weak_run.info.experiment_id),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def newest() -> int:
        return max(int(v.version) for v in client.search_model_versions(f"name = '{name}'"))

    deadline = time.monotonic() + 120
    while newest() <= int(earlier.version) and step.poll() is None and \
            time.monotonic() < deadline:
        time.sleep(0.2)
    assert step.poll() is None, "the register step ended before it could be killed"
    time.sleep(1)  # waiting for the earlier decision now
    step.send_signal(signal.SIGKILL)
    assert step.wait() == -signal.SIGKILL
    killed = client.get_model_version(name, str(int(earlier.version) + 1))
    assert TAG_GATE_DECISION not in killed.tags
    assert client.get_run(killed.tags[TAG_REGISTER_RUN]).info.status == "RUNNING"

    registry.record_decision(client, earlier, GATE_FAILED)  # the earlier one ends as usual
    client.set_terminated(deciding.info.run_id)
    started = time.monotonic()
    later = register(client, weak_run)
    decision, passed_over, _ = registry.decide_version(
        client, later, CONFIG, registry.trained_configuration(weak_run), lambda: prepared_table)
    assert time.monotonic() - started < 60  # not the 600 s the dead run would have cost
    assert passed_over[-1:] == [str(killed.version)]
    assert client.get_model_version(name, killed.version).tags[TAG_GATE_DECISION] == \
        GATE_ABANDONED
    assert client.get_model_version(name, later.version).tags[TAG_GATE_DECISION] == \
        decision.decision
    assert client.get_run(killed.tags[TAG_REGISTER_RUN]).info.status == "FAILED"


# --- The gate fails closed: only "not found" means there is no champion.

class Refusing(BaseHTTPRequestHandler):
    """A tracking server's front that refuses every request, as a server does a user without
    the permission (MLflow's basic-auth answers 403 with this body)."""

    def do_GET(self):  # noqa: N802 - http.server's name
        body = json.dumps({"error_code": "PERMISSION_DENIED",
                           "message": "Permission denied"}).encode()
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_only_a_missing_alias_means_no_champion(tracking_store, weak_run, monkeypatch):
    client = tracking_store.client
    name = registry.ensure_registered_model(client, CONFIG, PRODUCT)
    client.delete_registered_model_alias(name, ALIAS_CHAMPION)
    assert registry.current_champion(client, name) is None  # INVALID_PARAMETER_VALUE
    assert registry.current_champion(client, "never-registered") is None  # RESOURCE_DOES_NOT_EXIST

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        refused = MlflowClient(tracking_uri=f"http://127.0.0.1:{server.server_port}")
        with pytest.raises(registry.GateUnavailable,
                           match=rf"cannot read {name}@champion \(PERMISSION_DENIED"):
            registry.current_champion(refused, name)
    finally:
        server.shutdown()
        server.server_close()
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    lost = MlflowClient(tracking_uri=f"http://127.0.0.1:{server.server_port}")
    with pytest.raises(MlflowException) as raised:  # not "no champion": exit 3 in a step
        registry.current_champion(lost, name)
    assert lost_connection(raised.value) is not None


def test_gate_metrics_score_both_models_on_the_candidates_backtest_table():
    dataset = ("milk-backtest", "d1")
    candidate = ModelVersion("m", "3", 0, source="models:/m-new")
    champion = ModelVersion("m", "2", 0, source="s3://elsewhere", model_id="m-old")
    assert registry.logged_model_id(ModelVersion("m", "1", 0, source="runs:/r/model")) is None
    decision = GateDecision("challenger", "rejected", "worse", {"rmse": 2.0}, {"rmse": 1.0}, "2")
    metrics = registry.gate_metrics(decision, candidate, champion, dataset)
    assert [(m.key, m.value, m.step, m.model_id) for m in metrics] == [
        ("gate_rmse", 2.0, 3, "m-new"), ("gate_rmse", 1.0, 2, "m-old")]
    assert {(m.dataset_name, m.dataset_digest) for m in metrics} == {("milk-backtest", "d1")}
    first = GateDecision("champion", "first", "no champion yet", {"rmse": 2.0}, None, None)
    assert len(registry.gate_metrics(first, candidate, None, dataset)) == 1


def test_recorded_scores_take_the_backtests_names_and_need_every_score():
    scores = {name: float(i) for i, name in enumerate(SCORES)}
    assert registry.recorded_scores(scores) == scores
    tutorial = {**{name: -1.0 for name in SCORES},
                **{f"backtest_{name}": value for name, value in scores.items()}}
    assert registry.recorded_scores(tutorial) == scores  # the random split's ex-post ones aside
    assert registry.recorded_scores({"rmse": 1.0}) is None  # an older run: backtest it again


def test_predict_takes_a_product_or_a_whole_department_by_alias():
    config = load_config()
    assert [p.name for p in registry.predict_products(config, "milk", "", "")] == ["milk"]
    dairy = registry.predict_products(config, "dairy", "", "")
    assert [p.name for p in dairy] == [p.name for p in config.resolve("dairy")]
    for data, version in (("new_days.csv", ""), ("", "3")):
        with pytest.raises(UserError, match="dairy is a department"):
            registry.predict_products(config, "dairy", data, version)
