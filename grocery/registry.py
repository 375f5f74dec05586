"""The Model Registry: one registered model per product, versions with lineage, aliases, and the
champion gate that decides them."""

from __future__ import annotations

import time
from dataclasses import dataclass

import mlflow
import numpy as np
import pandas as pd
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.models import MetricThreshold
from mlflow.models.evaluation import EvaluationResult
from mlflow.models.evaluation.validation import ModelValidationFailedException
from mlflow.tracking import MlflowClient

from grocery.config import Config, GateThreshold, Product
from grocery.names import ALIAS_CHALLENGER, ALIAS_CHAMPION, TAG_GATE_DECISION, TAG_REGISTER_RUN


def ensure_registered_model(client: MlflowClient, catalog: Config, product: Product) -> str:
    """The product's registered model name, created with a description and tags on first use."""
    name = product.registered_model
    try:
        client.get_registered_model(name)
    except MlflowException:
        try:
            client.create_registered_model(
                name,
                tags={
                    "product": product.name,
                    "store_dept": product.department,
                    "project_name": catalog.project,
                },
                description=(
                    f"Daily demand forecast for {product.name} ({product.department}), "
                    f"{catalog.project}. Versions are registered by the pipeline's `register` "
                    f"step; `@{ALIAS_CHAMPION}` moves to a version that passes the champion gate "
                    "(catalog.yaml)."
                ),
            )
        except MlflowException:
            client.get_registered_model(name)  # created meanwhile by another pipeline
    return name


def current_champion(client: MlflowClient, name: str) -> ModelVersion | None:
    """The version that holds ``champion``, or None."""
    try:
        return client.get_model_version_by_alias(name, ALIAS_CHAMPION)
    except MlflowException:
        return None


def decide_alias(candidate_rmse: float, champion_rmse: float | None) -> str:
    """``champion`` if the candidate is strictly better (or there is none), else ``challenger``:
    the gate's rule for rmse alone (see ``apply_gate`` for the catalog's full gate)."""
    if champion_rmse is None or candidate_rmse < champion_rmse:
        return ALIAS_CHAMPION
    return ALIAS_CHALLENGER


def register_version(name: str, model_uri: str, tags: dict[str, str]) -> ModelVersion:
    """A new version of ``name`` from ``model_uri``, created with its lineage tags at once."""
    return mlflow.register_model(model_uri, name, tags=tags)


def wait_for_earlier_decisions(client: MlflowClient, version: ModelVersion,
                               timeout: float = 600, poll: float = 0.5) -> list[str]:
    """Wait until every earlier version whose register run is still running has its decision.

    Version numbers are handed out atomically by the registry, so deciding in version order
    makes concurrent registrations end as if they had come one after another: each compares
    itself with the champion its predecessors left. Returns the versions still undecided when
    ``timeout`` ran out (their register runs died without ending), which are then passed over.
    """
    deadline = time.monotonic() + timeout
    while True:
        pending = []
        for other in client.search_model_versions(f"name = '{version.name}'"):
            register_run = other.tags.get(TAG_REGISTER_RUN)
            if (int(other.version) < int(version.version) and register_run
                    and TAG_GATE_DECISION not in other.tags
                    and client.get_run(register_run).info.status == "RUNNING"):
                pending.append(str(other.version))
        if not pending or time.monotonic() > deadline:
            return pending
        time.sleep(poll)


def record_decision(client: MlflowClient, version: ModelVersion, decision: str) -> None:
    """Mark ``version`` as decided, for the registrations queued behind it."""
    client.set_model_version_tag(version.name, version.version, TAG_GATE_DECISION, decision)


# --- The champion gate: candidate and champion scored on the same rows, thresholds applied.

GATE_PASSED = "passed"
GATE_FAILED = "failed"
GATE_NO_CHAMPION = "no-champion"
GATE_NOT_COMPARABLE = "not-comparable"


@dataclass(frozen=True)
class GateDecision:
    """The alias a new version gets, the scores behind it and the gate's verdict."""

    alias: str
    decision: str
    reason: str
    candidate: dict[str, float]
    champion: dict[str, float] | None
    champion_version: str | None


def gate_thresholds(rules: tuple[GateThreshold, ...],
                    champion: dict[str, float]) -> dict[str, MetricThreshold]:
    """The catalog's gate rules as MLflow thresholds relative to the champion's scores."""
    thresholds = {}
    for rule in rules:
        base = champion[rule.metric]
        slack = rule.max_relative_regression * abs(base)
        thresholds[rule.metric] = MetricThreshold(
            threshold=base - slack if rule.greater_is_better else base + slack,
            min_absolute_change=1e-12 if rule.must_improve else None,
            greater_is_better=rule.greater_is_better,
        )
    return thresholds


def describe_rules(rules: tuple[GateThreshold, ...]) -> str:
    """The rules in words, for the run's tag and the printed decision."""
    parts = []
    for rule in rules:
        text = (f"{rule.metric} not worse" if rule.max_relative_regression == 0 else
                f"{rule.metric} at most {rule.max_relative_regression:.0%} worse")
        parts.append(text + (" and strictly better" if rule.must_improve else ""))
    return "; ".join(parts)


def apply_gate(rules: tuple[GateThreshold, ...], candidate: dict[str, float],
               champion: dict[str, float] | None,
               champion_version: str | None = None) -> GateDecision:
    """``champion`` if the candidate passes every rule against the champion (or there is none),
    else ``challenger``; MLflow's ``validate_evaluation_results`` applies the thresholds."""
    if champion is None:
        return GateDecision(ALIAS_CHAMPION, GATE_NO_CHAMPION, "no champion yet", candidate,
                            None, None)
    try:
        mlflow.validate_evaluation_results(
            gate_thresholds(rules, champion),
            EvaluationResult(metrics=candidate, artifacts={}),
            EvaluationResult(metrics=champion, artifacts={}),
        )
    except ModelValidationFailedException as failure:
        reason = "; ".join(line.strip() for line in str(failure).splitlines() if line.strip())
        return GateDecision(ALIAS_CHALLENGER, GATE_FAILED,
                            f"fails the gate against champion v{champion_version}: {reason}",
                            candidate, champion, champion_version)
    return GateDecision(ALIAS_CHAMPION, GATE_PASSED,
                        f"passes the gate against champion v{champion_version} "
                        f"({describe_rules(rules)})", candidate, champion, champion_version)


def score(model_uri: str, rows: pd.DataFrame, target: str) -> dict[str, float]:
    """mae, mse, rmse and r2 of the model at ``model_uri`` on ``rows``."""
    from grocery.modeling import regression_metrics

    model = mlflow.pyfunc.load_model(model_uri)
    schema = model.metadata.get_input_schema()
    inputs = rows
    if schema is not None and schema.has_input_names():
        inputs = rows[[name for name in schema.input_names() if name in rows.columns]]
    # The flavor's own model rather than pyfunc's schema enforcement, which casts dates to
    # nanoseconds (they end before 1677, and a million synthetic days reach further back).
    predictions = model.get_raw_model().predict(inputs)
    return regression_metrics(rows[target].to_numpy(), np.asarray(predictions).reshape(-1))


def gate_version(client: MlflowClient, version: ModelVersion, rules: tuple[GateThreshold, ...],
                 rows: pd.DataFrame, target: str) -> GateDecision:
    """Score ``version`` and the current champion on ``rows``, apply the gate, set the alias."""
    candidate = score(f"models:/{version.name}/{version.version}", rows, target)
    champion = current_champion(client, version.name)
    champion_scores = None
    if champion is not None:
        try:
            champion_scores = score(f"models:/{champion.name}/{champion.version}", rows, target)
        except (MlflowException, ValueError, KeyError) as error:
            first = (str(error).strip().splitlines() or ["unknown error"])[0]
            decision = GateDecision(
                ALIAS_CHALLENGER, GATE_NOT_COMPARABLE,
                f"champion v{champion.version} cannot score these rows ({first}); move "
                f"@{ALIAS_CHAMPION} by hand if this version should replace it",
                candidate, None, champion.version)
            client.set_registered_model_alias(version.name, decision.alias, version.version)
            return decision
    decision = apply_gate(rules, candidate, champion_scores,
                          champion.version if champion is not None else None)
    client.set_registered_model_alias(version.name, decision.alias, version.version)
    return decision
