"""The Model Registry: one registered model per product, its versions with their lineage tags,
references to them (``<name>/<version>``, ``<name>@<alias>``), the champion gate that moves
the aliases (the rules themselves are in ``grocery.gate``), and the data behind a version.

``predict``, ``lineage`` and ``reproduce`` resolve a reference to one model version first, so
everything they do afterwards refers to that version even if an alias moves.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from dataclasses import dataclass
from typing import NamedTuple

import mlflow
import numpy as np
import pandas as pd
from mlflow.entities import LifecycleStage, Metric, Run
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import (
    INVALID_PARAMETER_VALUE,
    RESOURCE_ALREADY_EXISTS,
    RESOURCE_DOES_NOT_EXIST,
    ErrorCode,
)
from mlflow.pyfunc import PyFuncModel
from mlflow.tracking import MlflowClient

from grocery.config import Config, Product, load_config
from grocery.dataset import continue_sales
from grocery.errors import UserError, first_line, lost_connection
from grocery.gate import (
    GATE_ABANDONED,
    GATE_UNAVAILABLE,
    GateDecision,
    apply_gate,
    decision_metrics,
    not_comparable,
)
from grocery.lineage import UNKNOWN
from grocery.liveness import process_gone
from grocery.model_inputs import Column, model_inputs
from grocery.names import (
    ALIAS_CHAMPION,
    BACKTEST_PREFIX,
    DIRECT,
    GLOBAL,
    SCORES,
    STRATEGIES,
    TAG_DATA_DIGEST,
    TAG_DEPARTMENT,
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
    TAG_SERIES_MODEL,
    TAG_STEP,
    TAG_TRAIN_RUN,
    TAG_VERSION_COMMIT,
    TRAIN,
    experiment_name_for,
    product_model_tag,
    registered_model_name,
)
from grocery.prepared import (
    DATA_DIR,
    EVALUATION,
    SYNTHETIC,
    PreparedData,
    PreparedTable,
    dataset_name,
    load_prepared_table,
)
from grocery.series import ACTUAL, with_total
from grocery.step_run import StepRecord
from grocery.tables import read_table
from grocery.tracking import fail_run, run_artifact_uri
from grocery.uris import public_uri

_REFERENCE = re.compile(
    r"^(?:models:/)?(?P<name>[^/@\s]+)(?:/(?P<version>\d+)|@(?P<alias>[\w-]+))$"
)
# The train run's metrics a version also carries as tags, for the registry's own pages.
VERSION_METRICS = ("rmse", "mae")
# The gate's scores of a logged model: gate_rmse, gate_mase, ... (see gate_metrics).
GATE_METRIC_PREFIX = "gate_"
MODEL_PARAM = "model"  # train's parameter naming the catalog model it fitted
SEED_PARAM = "seed"  # prepare's parameter seeding a catalog product's synthetic sales


# --- References to a version: parsed, resolved, loaded.

@dataclass(frozen=True)
class ModelRef:
    """A registered model name with exactly one of a version number or an alias."""

    name: str
    version: str | None = None
    alias: str | None = None

    def __str__(self) -> str:
        return f"{self.name}/{self.version}" if self.version else f"{self.name}@{self.alias}"


def parse_model_ref(text: str) -> ModelRef:
    """``name/version``, ``name@alias`` (optionally prefixed ``models:/``) as a ModelRef."""
    match = _REFERENCE.match(text.strip())
    if match is None:
        raise UserError(
            f"model {text!r} is not <name>/<version> or <name>@<alias>, "
            f"e.g. {registered_model_name('cheese')}@{ALIAS_CHAMPION}"
        )
    return ModelRef(**match.groupdict())  # the groups are named after the fields


def product_model_ref(product: str, alias: str = "", version: str = "") -> ModelRef:
    """The reference to a product's model: ``version`` when given, else ``alias``."""
    version, alias = version.strip(), alias.strip()
    name = registered_model_name(product)
    if version:
        if not version.isdigit():
            raise UserError(f"model_version must be a version number, got {version!r}")
        return ModelRef(name, version=version)
    if not alias:
        raise UserError(f"give a model_alias (e.g. {ALIAS_CHAMPION}) or a model_version")
    return ModelRef(name, alias=alias)


def version_ref(version: ModelVersion) -> ModelRef:
    """The reference to exactly this version (``<name>/<version>``)."""
    return ModelRef(version.name, version=str(version.version))


def catalog_product(config: Config, ref: ModelRef) -> Product | None:
    """The catalog product whose registered model ``ref`` names, or None."""
    return next((p for p in config.products.values() if p.registered_model == ref.name), None)


def predict_product(config: Config, name: str) -> Product:
    """The catalog's product ``name``, else a user's own product of that name (a forecast needs
    only its registered model, which ``resolve`` then looks for)."""
    if name in config.products:
        return config.products[name]
    return Product(name, "", experiment_name_for(name))


def predict_products(config: Config, name: str, data: str, version: str) -> list[Product]:
    """The product ``name`` names, or every product of the department ``name`` (forecast from
    its catalog continuation, each product's model by alias), or a UserError."""
    if name not in config.departments or name in config.products:
        return [predict_product(config, name)]
    if data or version.strip():
        raise UserError(f"{name} is a department: its forecast continues each of its products' "
                        "catalog data with that product's model by alias; -P input and "
                        "-P model_version are for one product")
    return config.resolve(name)


def product_forecast(client: MlflowClient, config: Config, ref: ModelRef,
                     data: str) -> tuple[pd.DataFrame, ModelVersion]:
    """The forecast of the version ``ref`` names for the table ``data`` (history then the days
    to forecast) or, without one, its catalog continuation beside what then happened."""
    version = resolve(client, ref)
    table, actual = ((read_table(data), None) if data else
                     catalog_continuation(client, config, version))
    # The columns are checked against the signature before the model loads.
    inputs = model_inputs(table, input_columns(version))
    return with_actual(load_model(version).predict(inputs), actual), version


def prediction_tags(versions: dict[str, ModelVersion],
                    refs: dict[str, ModelRef]) -> dict[str, str]:
    """What a predict run used: one product's version (its reference tags and URI), or each
    product's version URI for a department."""
    if len(versions) == 1:
        (name, version), = versions.items()
        return {**reference_tags(version, refs[name]), TAG_MODEL_URI: version_uri(version)}
    return {product_model_tag(name): version_uri(version) for name, version in versions.items()}


def resolve(client: MlflowClient, ref: ModelRef) -> ModelVersion:
    """The model version ``ref`` names, or a UserError saying what exists instead."""
    try:
        client.get_registered_model(ref.name)
    except MlflowException:
        raise UserError(
            f"no registered model {ref.name!r} in this tracking store "
            f"({public_uri(mlflow.get_tracking_uri())}); run the pipeline first"
        ) from None
    try:
        if ref.version is not None:
            return client.get_model_version(ref.name, ref.version)
        return client.get_model_version_by_alias(ref.name, ref.alias)
    except MlflowException:
        what = f"version {ref.version}" if ref.version else f"alias {ref.alias!r}"
        raise UserError(f"registered model {ref.name!r} has no {what}") from None


def reference_tags(version: ModelVersion, ref: ModelRef | None = None) -> dict[str, str]:
    """The tags a run that used ``version`` carries: model name, version, and the reference
    it was asked for."""
    tags = {TAG_REGISTERED_MODEL: version.name, TAG_MODEL_VERSION: str(version.version)}
    if ref is not None:
        tags[TAG_MODEL_REFERENCE] = str(ref)
    return tags


def version_uri(version: ModelVersion) -> str:
    """``models:/<name>/<version>``: the version itself, unaffected by later alias moves."""
    return f"models:/{version.name}/{version.version}"


def input_columns(version: ModelVersion) -> list[Column]:
    """The version's input columns, read from its signature without loading the model."""
    signature = mlflow.models.get_model_info(version_uri(version)).signature
    schema = signature.inputs if signature is not None else None
    if schema is None or not schema.has_input_names():
        raise UserError(f"{version.name} v{version.version} has no named input signature")
    return [Column(spec.name, getattr(spec.type, "name", str(spec.type)), spec.required)
            for spec in schema.inputs]


def load_model(version: ModelVersion) -> PyFuncModel:
    """The version as a forecaster, built from its files only once they proved to be what the
    package writes, its skops file read with the catalog's trusted types for its model
    (grocery.model_trust); MLflow never runs the model's own code."""
    # Lazy: skops and the forecaster (~0.5 s of start-up) only where a model is loaded, never
    # in register.
    from grocery.model_trust import verified_model, version_label

    config = load_config()
    try:
        choice = config.model(version_configuration(MlflowClient(), version).model)
    except UserError as error:
        raise UserError(f"{version_label(version)} is refused: it is not traceable to a catalog "
                        f"model whose reviewed skops types apply ({error})") from None
    return verified_model(version, config.trusted_types(choice))


# --- Registering a train run's model as a new version.

def finished_train_run(client: MlflowClient, run_id: str) -> Run:
    """The train run ``run_id``, or a UserError saying why it cannot be registered."""
    try:
        run = client.get_run(run_id)
    except MlflowException:
        raise UserError(f"train_run_id {run_id!r} does not exist in this tracking store") from None
    step = run.data.tags.get(TAG_STEP)
    if step != TRAIN:
        what = f"a {step} run" if step else "not a pipeline step"
        raise UserError(f"run {run_id} is not a train run (it is {what})")
    if run.info.status != "FINISHED":
        raise UserError(f"train run {run_id} is {run.info.status}, not FINISHED")
    return run


def ensure_registered_model(client: MlflowClient, config: Config, product: Product) -> str:
    """The product's registered model name, created with a description and tags on first use
    (created outright: the registry refuses a name it holds, which is the one answer needed)."""
    name = product.registered_model
    try:
        client.create_registered_model(
            name,
            tags={TAG_PRODUCT: product.name, TAG_DEPARTMENT: product.department,
                  TAG_PROJECT: config.project},
            description=(
                f"Daily demand forecast for {product.name} ({product.department}), "
                f"{config.project}. Versions are registered by the pipeline's `register` "
                f"step; `@{ALIAS_CHAMPION}` moves to a version that passes the champion gate "
                "(catalog.yaml)."
            ),
        )
    except MlflowException as error:
        if error.error_code != ErrorCode.Name(RESOURCE_ALREADY_EXISTS):
            raise
    return name


def version_tags(train_run: Run, product: Product, register_run_id: str) -> dict[str, str]:
    """A new version's lineage tags: product, the runs behind it, data digest, commit, scores."""
    tags, metrics = train_run.data.tags, train_run.data.metrics
    return {
        TAG_PRODUCT: product.name,
        TAG_DEPARTMENT: product.department,
        TAG_TRAIN_RUN: train_run.info.run_id,
        TAG_REGISTER_RUN: register_run_id,
        TAG_PREPARE_RUN: tags[TAG_PREPARE_RUN],
        TAG_DATA_DIGEST: tags[TAG_DATA_DIGEST],
        TAG_VERSION_COMMIT: tags.get(TAG_GIT_COMMIT, UNKNOWN),
        **{metric: repr(metrics[metric]) for metric in VERSION_METRICS},
    }


def register_version(client: MlflowClient, name: str, train_run: Run, product: Product,
                     register_run_id: str) -> ModelVersion:
    """A new version of ``name`` from the train run's logged model, created with its lineage
    tags (in one request: ``name`` exists already, so nothing of ``mlflow.register_model``'s
    creating it or reading the model back is needed)."""
    uri = train_run.data.tags[TAG_MODEL_URI]
    return client.create_model_version(
        name, uri, run_id=train_run.info.run_id,
        tags=version_tags(train_run, product, register_run_id),
        model_id=model_id_in(uri))


# --- The champion gate, applied to a new version.

# How long a registration waits for an earlier one that is still deciding: an earlier register
# run RUNNING longer than this since it started is taken for dead and its version passed over.
GATE_WAIT_ENV = "GROCERY_GATE_WAIT_SECONDS"
GATE_WAIT_SECONDS = 600.0
FIRST = "1"  # a registered model's first version: nothing earlier to wait for, no champion
_MISSING = ErrorCode.Name(RESOURCE_DOES_NOT_EXIST)
_INVALID = ErrorCode.Name(INVALID_PARAMETER_VALUE)


class GateUnavailable(UserError):
    """The registry answered something other than "not found" (refused, a server error): the
    gate cannot decide, so it fails closed and no alias moves."""


def gate_wait_seconds() -> float:
    """``$GROCERY_GATE_WAIT_SECONDS``, else 600: how long a register run may stay RUNNING
    before the registrations behind it pass its version over."""
    text = os.environ.get(GATE_WAIT_ENV, "").strip()
    try:
        seconds = float(text) if text else GATE_WAIT_SECONDS
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise UserError(f"{GATE_WAIT_ENV} must be a number of seconds >= 0, got {text!r}")
    return seconds


def not_found(error: MlflowException) -> bool:
    """Whether ``error`` is the store saying a run, model or alias does not exist. MLflow 3.17's
    SQL store, directly or behind ``mlflow server``, answers a missing alias with
    INVALID_PARAMETER_VALUE "Registered model alias ... not found." and a missing run, model or
    version with RESOURCE_DOES_NOT_EXIST (store/model_registry/sqlalchemy_store.py)."""
    return error.error_code == _MISSING or (
        error.error_code == _INVALID and "model alias" in error.message
        and "not found" in error.message)


def unavailable(error: MlflowException, what: str) -> GateUnavailable:
    """The gate's one-line failure for a registry that would not say ``what``; a lost server
    is not one of these (the caller re-raises it: exit 3)."""
    return GateUnavailable(f"the champion gate cannot read {what} ({first_line(error)}); "
                           "no alias moved")


def current_champion(client: MlflowClient, name: str) -> ModelVersion | None:
    """The version that holds ``champion``; None only when the registry says there is none.
    Any other failure raises (GateUnavailable, or the lost server's own error): the gate
    fails closed rather than hand ``champion`` over without a comparison."""
    try:
        return client.get_model_version_by_alias(name, ALIAS_CHAMPION)
    except MlflowException as error:
        if not_found(error):
            return None
        if lost_connection(error):
            raise
        raise unavailable(error, f"{name}@{ALIAS_CHAMPION}") from None


def wait_for_earlier_decisions(client: MlflowClient, version: ModelVersion,
                               timeout: float | None = None, poll: float = 0.5) -> list[str]:
    """Wait until every earlier version has its decision or is abandoned; the abandoned ones.

    Version numbers are handed out atomically by the registry, so deciding in version order
    makes concurrent registrations end as if they had come one after another: each compares
    itself with the champion its predecessors left. An earlier version whose register run can
    no longer decide (see ``earlier_registration``) is tagged ``gate_decision=abandoned`` and
    passed over, so the wait is bounded by ``timeout`` (``gate_wait_seconds()``).
    """
    timeout = gate_wait_seconds() if timeout is None else timeout
    passed_over: list[str] = []
    while True:
        pending = 0
        for other in client.search_model_versions(f"name = '{version.name}'"):
            register_run = other.tags.get(TAG_REGISTER_RUN)
            if (int(other.version) >= int(version.version) or not register_run
                    or TAG_GATE_DECISION in other.tags):
                continue
            earlier = earlier_registration(client, other, register_run, timeout)
            pending += earlier.deciding
            if earlier.abandoned:
                abandon(client, other, earlier.abandoned, earlier.dead)
                passed_over.append(str(other.version))
        if not pending:
            return sorted(passed_over, key=int)
        time.sleep(poll)


class EarlierRegistration(NamedTuple):
    """An undecided earlier version's register run: still deciding, or why it never will and
    whether its process is provably dead (neither for a run that ended FINISHED)."""

    deciding: bool
    abandoned: str = ""
    dead: bool = False


def earlier_registration(client: MlflowClient, version: ModelVersion, run_id: str,
                         timeout: float) -> EarlierRegistration:
    """Whether ``version``'s register run ``run_id`` may still decide it. It never will when
    the run is gone or deleted, ended FAILED or KILLED, its process is dead, or it has been
    RUNNING for more than ``timeout`` seconds."""
    try:
        run = client.get_run(run_id)
    except MlflowException as error:
        if not_found(error):
            return EarlierRegistration(False, f"its register run {run_id} is not in this "
                                              "tracking store")
        if lost_connection(error):
            raise
        raise unavailable(error, f"register run {run_id}") from None
    if run.info.lifecycle_stage == LifecycleStage.DELETED:
        return EarlierRegistration(False, f"its register run {run_id} is deleted")
    status = run.info.status
    if status == "FINISHED":  # registered by hand or before the gate recorded decisions
        return EarlierRegistration(False)
    if status != "RUNNING":
        decided = client.get_model_version(version.name, version.version)  # ended after deciding?
        return EarlierRegistration(False, "" if TAG_GATE_DECISION in decided.tags else
                                   f"its register run {run_id} ended {status} without a decision")
    if process_gone(run.data.tags.get(TAG_PROCESS)):
        return EarlierRegistration(False, f"its register run {run_id} is RUNNING but its process "
                                          "is gone", dead=True)
    age = time.time() - run.info.start_time / 1000
    if age > timeout:
        return EarlierRegistration(False, f"its register run {run_id} has been RUNNING for "
                                          f"{age:.0f} s, more than {GATE_WAIT_ENV}={timeout:g}")
    return EarlierRegistration(True)


def abandon(client: MlflowClient, version: ModelVersion, reason: str, dead: bool) -> None:
    """Tag ``version`` abandoned with the reason; a register run whose process is provably
    ``dead`` is ended FAILED too, so the store shows nothing RUNNING that is not running."""
    record_decision(client, version, GATE_ABANDONED, reason)
    if dead:
        fail_run(client, version.tags[TAG_REGISTER_RUN],
                 f"its process ended without ending the run; version {version.version} "
                 f"{GATE_ABANDONED}")


def record_decision(client: MlflowClient, version: ModelVersion, decision: str,
                    reason: str | None = None) -> None:
    """Mark ``version`` as decided (and why), for the registrations queued behind it."""
    if reason is not None:
        client.set_model_version_tag(version.name, version.version, TAG_GATE_REASON, reason)
    client.set_model_version_tag(version.name, version.version, TAG_GATE_DECISION, decision)


@dataclass(frozen=True)
class TrainedConfiguration:
    """What a train run fitted: the catalog model, its hyperparameters and the strategy."""

    model: str
    hyperparameters: dict
    strategy: str = DIRECT
    # The run's own backtest scores (names.SCORES), on its own prepared data, if recorded.
    scores: dict[str, float] | None = None
    series_model: str = GLOBAL


def recorded_scores(metrics: dict[str, float]) -> dict[str, float] | None:
    """A train run's backtest scores under the gate's names (``backtest_<name>`` on the
    tutorial's random split), or None if one is missing (an older run)."""
    found = {name: metrics.get(f"{BACKTEST_PREFIX}{name}", metrics.get(name))
             for name in SCORES}
    return None if None in found.values() else found


def trained_configuration(run: Run) -> TrainedConfiguration:
    """A train run's configuration and backtest scores from its records (param ``model``, the
    hyperparameters and strategy tags, its metrics), or a UserError naming the record it
    lacks."""
    params, tags, run_id = run.data.params, run.data.tags, run.info.run_id
    if MODEL_PARAM not in params:
        raise UserError(f"train run {run_id} has no param {MODEL_PARAM!r}")
    if TAG_HYPERPARAMETERS not in tags:
        raise UserError(f"train run {run_id} has no tag {TAG_HYPERPARAMETERS}")
    strategy = tags.get(TAG_FORECAST_STRATEGY, DIRECT)
    if strategy not in STRATEGIES:
        raise UserError(f"train run {run_id} has an unknown forecast strategy {strategy!r}")
    return TrainedConfiguration(params[MODEL_PARAM], json.loads(tags[TAG_HYPERPARAMETERS]),
                                strategy, recorded_scores(run.data.metrics),
                                tags.get(TAG_SERIES_MODEL, GLOBAL))


def version_configuration(client: MlflowClient, version: ModelVersion) -> TrainedConfiguration:
    """The configuration of the train run behind ``version``, or a UserError saying why it is
    unknown (no train run tag, the run deleted or gone, its records missing)."""
    run_id = version.tags.get(TAG_TRAIN_RUN)
    if not run_id:
        raise UserError(f"version {version.version} has no {TAG_TRAIN_RUN} tag")
    try:
        run = client.get_run(run_id)
    except MlflowException as error:
        if not not_found(error):  # the store failing is not the record missing: fail closed
            if lost_connection(error):
                raise
            raise unavailable(error, f"train run {run_id}") from None
        raise UserError(f"its train run {run_id} is not in this tracking store") from None
    if run.info.lifecycle_stage == LifecycleStage.DELETED:
        raise UserError(f"its train run {run_id} is deleted")
    return trained_configuration(run)


def backtest_scores(config: Config, configuration: TrainedConfiguration,
                    data: PreparedTable) -> dict[str, float]:
    """``configuration`` refitted at each backtest origin of the prepared ``data``, scored over
    its forecasts: the same folds, horizon and known-ahead columns for any configuration."""
    # Lazy: fitting needs scikit-learn, statsmodels and matplotlib (~1.5 s of start-up), which a
    # first registration, reusing its train run's scores, never does.
    from grocery import evaluation, training

    table, prepared = data()
    spec = training.forecast_spec(prepared, configuration.strategy, configuration.series_model)
    frame = evaluation.model_backtest(config.model(configuration.model),
                                      configuration.hyperparameters, table, spec, prepared.folds)
    return evaluation.scores(frame)


def gate_version(client: MlflowClient, version: ModelVersion, config: Config,
                 candidate: TrainedConfiguration,
                 data: PreparedTable) -> tuple[GateDecision, ModelVersion | None]:
    """Backtest the candidate's and the champion's configurations on the candidate's prepared
    ``data`` and folds, apply the catalog's gate, set the alias; the decision and the champion
    it met. No model is loaded: both are refitted the same way on the same rows."""
    # The candidate's train run backtested it on these very rows and folds: its scores are
    # reused (only the champion is refitted); an older run without them is backtested here.
    candidate_scores = candidate.scores or backtest_scores(config, candidate, data)
    # Version 1 has no earlier version, so no champion: the registry need not be asked.
    champion = None if version.version == FIRST else current_champion(client, version.name)
    if champion is None:
        decision = apply_gate(config.gate, candidate_scores, None)
    else:
        try:
            champion_scores = backtest_scores(
                config, version_configuration(client, champion), data)
        except GateUnavailable:
            raise
        except UserError as error:
            decision = not_comparable(candidate_scores, str(champion.version), error)
        else:
            decision = apply_gate(config.gate, candidate_scores, champion_scores,
                                  str(champion.version))
    client.set_registered_model_alias(version.name, decision.alias, version.version)
    return decision, champion


def model_id_in(uri: str | None) -> str | None:
    """The logged model id a ``models:/<model id>`` URI names, or None for any other URI."""
    uri = uri or ""
    return uri.removeprefix("models:/") if uri.startswith("models:/m-") else None


def logged_model_id(version: ModelVersion) -> str | None:
    """The id of the logged model behind ``version``: MLflow leaves ``model_id`` empty on some
    stores, but a version registered from a logged model has ``models:/<model id>`` as source."""
    return version.model_id or model_id_in(version.source)


def gate_metrics(decision: GateDecision, candidate: ModelVersion,
                 champion: ModelVersion | None, dataset: tuple[str, str]) -> list[Metric]:
    """The gate's scores as ``gate_<metric>`` on each logged model it compared (step = the
    version's number), measured on the candidate's backtest table ``dataset`` (name, digest):
    so ``mlflow.search_logged_models`` orders the two by the gate's metric on that dataset."""
    now = int(time.time() * 1000)
    name, digest = dataset
    scored = [(candidate, decision.candidate)]
    if champion is not None and decision.champion is not None:
        scored.append((champion, decision.champion))
    return [Metric(f"{GATE_METRIC_PREFIX}{key}", float(value), now, int(version.version),
                   model_id=model_id, dataset_name=name, dataset_digest=digest)
            for version, scores in scored if (model_id := logged_model_id(version))
            for key, value in scores.items()]


def evaluation_dataset(train_run: Run) -> tuple[str, str]:
    """(name, digest) of the backtest table a train run was scored on, from its tags."""
    tags = train_run.data.tags
    return dataset_name(tags[TAG_PRODUCT], EVALUATION), tags[TAG_DATA_DIGEST]


class GateOutcome(NamedTuple):
    """The gate's decision on a version, the earlier versions it passed over, and the champion
    it was compared with (None when there was none)."""

    decision: GateDecision
    passed_over: list[str]
    champion: ModelVersion | None


def log_gate(step: StepRecord, outcome: GateOutcome, version: ModelVersion,
             dataset: tuple[str, str], tags: dict[str, str]) -> None:
    """The gate's record into the register ``step``'s: ``tags``, both scores as
    ``candidate_<metric>``/``champion_<metric>``, and ``gate_metrics`` on the models (one
    request when the step writes its record)."""
    step.log(decision_metrics(outcome.decision), tags=tags)
    step.log(gate_metrics(outcome.decision, version, outcome.champion, dataset))


def decide_version(client: MlflowClient, version: ModelVersion, config: Config,
                   candidate: TrainedConfiguration, data: PreparedTable) -> GateOutcome:
    """The gate's decision on a new version, taken in version order (after every earlier one
    is decided or abandoned). A registry that fails the gate leaves the version registered, no
    alias moved, the reason on the version."""
    try:
        passed_over = [] if version.version == FIRST else wait_for_earlier_decisions(client,
                                                                                     version)
        decision, champion = gate_version(client, version, config, candidate, data)
    except GateUnavailable as error:
        with contextlib.suppress(MlflowException):  # a registry that refused may refuse this
            record_decision(client, version, GATE_UNAVAILABLE, str(error))
        raise
    record_decision(client, version, decision.decision)
    return GateOutcome(decision, passed_over, champion)


# --- The data behind a version, and the days after it.

def version_data(client: MlflowClient,
                 version: ModelVersion) -> tuple[pd.DataFrame, PreparedData, Run]:
    """Every prepared row a version was trained on (in date order), their record, and the
    prepare run (version -> its train run -> that run's prepare run)."""
    train_run = client.get_run(version.tags[TAG_TRAIN_RUN])
    prepare_run = client.get_run(train_run.data.tags[TAG_PREPARE_RUN])
    # From the prepare run in hand: its runs:/ URI would read the run once more.
    table, prepared = load_prepared_table(run_artifact_uri(prepare_run, DATA_DIR))
    return table, prepared, prepare_run


def catalog_continuation(client: MlflowClient, config: Config,
                         version: ModelVersion) -> tuple[pd.DataFrame, pd.DataFrame]:
    """For a catalog product's version: its prepared rows then the ``horizon`` days its
    generator continues them with (only the date and known-ahead columns filled), and what
    then happened (date, ``actual``)."""
    product = catalog_product(config, version_ref(version))
    if product is None:
        raise UserError(f"{version.name} is not a catalog product's model, so there are no "
                        "synthetic days after its data; pass -P input=<a table of history rows "
                        "then the days to forecast>")
    history, prepared, prepare_run = version_data(client, version)
    if prepared.source != SYNTHETIC:
        raise UserError(f"{version.name} v{version.version} was trained on {prepared.source}, "
                        "whose future only you know; pass -P input=<a table of history rows "
                        "then the days to forecast>")
    after = continue_sales(config.generators[product.name], history, prepared.horizon,
                           int(prepare_run.data.params[SEED_PARAM]))
    unknown = [prepared.target, *prepared.observed, *prepared.target_lags]
    future = after.assign(**{column: np.nan for column in unknown})
    actual = after[[*prepared.series, prepared.date_column, prepared.target]].rename(
        columns={prepared.target: ACTUAL})
    if prepared.series:
        actual = with_total(actual, prepared.series, prepared.date_column, [ACTUAL])
    return pd.concat([history, future], ignore_index=True), actual


def with_actual(forecast: pd.DataFrame, actual: pd.DataFrame | None) -> pd.DataFrame:
    """The forecast rows with what happened on each day (``actual``, matched by series and
    date) when it is known."""
    if actual is None:
        return forecast
    return forecast.merge(actual, on=[c for c in actual.columns if c != ACTUAL], how="left")
