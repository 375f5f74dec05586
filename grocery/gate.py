"""The champion gate: the catalog's rules applied to a candidate's and the champion's scores.

Scores in, a decision out: MLflow's ``validate_evaluation_results`` compares the two sets of
metrics, nothing is read from or written to the tracking store here. ``grocery.registry``
backtests the candidate's and the champion's configurations on the same folds of the candidate's
data (``grocery.evaluation``) and moves the alias.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import mlflow
from mlflow.models import MetricThreshold
from mlflow.models.evaluation import EvaluationResult
from mlflow.models.evaluation.validation import ModelValidationFailedException

from grocery.config import GateThreshold
from grocery.errors import first_line
from grocery.names import (
    ALIAS_CHALLENGER,
    ALIAS_CHAMPION,
    TAG_ALIAS,
    TAG_ALIAS_REASON,
    TAG_CHAMPION_VERSION,
    TAG_GATE_DECISION,
    TAG_GATE_PASSED_OVER,
    TAG_GATE_REASON,
    TAG_GATE_THRESHOLDS,
)

GATE_PASSED = "passed"
GATE_FAILED = "failed"
GATE_NO_CHAMPION = "no-champion"
GATE_NOT_COMPARABLE = "not-comparable"
# An earlier version whose register run died undecided, passed over by the ones behind it.
GATE_ABANDONED = "abandoned"
# The gate could not read what it compares (the registry refused or failed): no alias moved.
GATE_UNAVAILABLE = "unavailable"


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


def not_comparable(candidate: dict[str, float], champion_version: str,
                   error: Exception) -> GateDecision:
    """``challenger``: the champion's configuration cannot be backtested on the candidate's
    rows (its train run's records are gone or incomplete), so a person decides."""
    return GateDecision(
        ALIAS_CHALLENGER, GATE_NOT_COMPARABLE,
        f"champion v{champion_version} cannot be backtested on these rows "
        f"({first_line(error)}); move "
        f"@{ALIAS_CHAMPION} by hand if this version should replace it",
        candidate, None, champion_version)


def decision_tags(decision: GateDecision, rules: tuple[GateThreshold, ...],
                  passed_over: list[str] | None = None) -> dict[str, str]:
    """What the register run records about the decision: alias, verdict, reason, thresholds,
    and the earlier versions it did not wait for (their register runs died undecided)."""
    tags = {
        TAG_ALIAS: decision.alias,
        TAG_ALIAS_REASON: decision.reason,
        TAG_GATE_DECISION: decision.decision,
        TAG_GATE_REASON: decision.reason,
        TAG_GATE_THRESHOLDS: json.dumps([asdict(rule) for rule in rules]),
    }
    if decision.champion is not None:
        tags[TAG_CHAMPION_VERSION] = str(decision.champion_version)
    if passed_over:
        tags[TAG_GATE_PASSED_OVER] = ",".join(passed_over)
    return tags


def decision_metrics(decision: GateDecision) -> dict[str, float]:
    """Both scores as metrics: ``candidate_<metric>`` and, if compared, ``champion_<metric>``."""
    scores = {f"candidate_{k}": v for k, v in decision.candidate.items()}
    if decision.champion is not None:
        scores.update({f"champion_{k}": v for k, v in decision.champion.items()})
    return scores
