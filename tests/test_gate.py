"""grocery.gate: the catalog's champion gate applied to scores, and what the register run records
about a decision."""

from __future__ import annotations

import json

import pytest

from grocery.config import GateThreshold, load_config
from grocery.gate import (
    GATE_FAILED,
    GATE_NO_CHAMPION,
    GATE_NOT_COMPARABLE,
    GATE_PASSED,
    apply_gate,
    decision_metrics,
    decision_tags,
    describe_rules,
    not_comparable,
)
from grocery.names import (
    ALIAS_CHALLENGER,
    ALIAS_CHAMPION,
    TAG_ALIAS,
    TAG_CHAMPION_VERSION,
    TAG_GATE_DECISION,
    TAG_GATE_PASSED_OVER,
    TAG_GATE_THRESHOLDS,
)

RULES = load_config().gate
CHAMPION = {rule.metric: 10.0 for rule in RULES}


def changed(metric: str, factor: float) -> dict[str, float]:
    """The champion's scores with ``metric`` worse by ``factor`` of its value, the others 1%
    better."""
    scores = {}
    for rule in RULES:
        better = -1 if rule.greater_is_better else 1
        scores[rule.metric] = CHAMPION[rule.metric] * (1 - 0.01 * better)
    rule = next(r for r in RULES if r.metric == metric)
    scores[metric] = CHAMPION[metric] * (1 + factor * (-1 if rule.greater_is_better else 1))
    return scores


def test_better_on_every_metric_passes_the_catalogs_gate():
    decision = apply_gate(RULES, changed(RULES[0].metric, -0.01), CHAMPION, "3")
    assert (decision.alias, decision.decision) == (ALIAS_CHAMPION, GATE_PASSED)
    assert decision.reason == f"passes the gate against champion v3 ({describe_rules(RULES)})"
    assert decision.champion == CHAMPION and decision.champion_version == "3"


@pytest.mark.parametrize("rule", RULES, ids=[rule.metric for rule in RULES])
def test_each_catalog_rule_allows_its_slack_and_no_more(rule):
    slack = rule.max_relative_regression
    equal = apply_gate(RULES, changed(rule.metric, 0.0), CHAMPION, "3")
    assert equal.alias == (ALIAS_CHALLENGER if rule.must_improve else ALIAS_CHAMPION)
    if slack:
        assert apply_gate(RULES, changed(rule.metric, slack * 0.98), CHAMPION).decision == \
            GATE_PASSED
    failed = apply_gate(RULES, changed(rule.metric, slack * 1.02 + 0.001), CHAMPION, "3")
    assert (failed.alias, failed.decision) == (ALIAS_CHALLENGER, GATE_FAILED)
    assert failed.reason.startswith("fails the gate against champion v3: Metric ")
    assert rule.metric in failed.reason and "\n" not in failed.reason


def test_without_a_champion_the_candidate_is_champion():
    decision = apply_gate(RULES, {"rmse": 99.0, "mae": 99.0}, None)
    assert (decision.alias, decision.decision) == (ALIAS_CHAMPION, GATE_NO_CHAMPION)
    assert decision.champion is None


@pytest.mark.parametrize(("candidate", "alias"), [
    ({"rmse": 9.0, "mae": 8.0}, ALIAS_CHAMPION),
    ({"rmse": 9.0, "mae": 8.39}, ALIAS_CHAMPION),  # mae 4.9% worse: allowed
    ({"rmse": 9.0, "mae": 8.41}, ALIAS_CHALLENGER),  # mae 5.1% worse
    ({"rmse": 10.0, "mae": 7.0}, ALIAS_CHALLENGER),  # rmse equal: not an improvement
    ({"rmse": 10.5, "mae": 7.0}, ALIAS_CHALLENGER),
    ({"rmse": 9.0, "r2": 0.5, "mae": 8.0}, ALIAS_CHALLENGER),  # r2 must not fall at all
])
def test_rules_read_both_ways(candidate, alias):
    rules = (GateThreshold("rmse", 0.0, must_improve=True), GateThreshold("mae", 0.05),
             *((GateThreshold("r2", 0.0, greater_is_better=True),) if "r2" in candidate else ()))
    champion = {"rmse": 10.0, "mae": 8.0, "r2": 0.6}
    assert apply_gate(rules, candidate, champion, "1").alias == alias
    assert describe_rules(rules).startswith(
        "rmse not worse and strictly better; mae at most 5% worse")


def test_what_the_register_run_records():
    passed = apply_gate(RULES, changed(RULES[0].metric, -0.01), CHAMPION, "3")
    tags = decision_tags(passed, RULES, ["1", "2"])
    assert tags[TAG_ALIAS] == ALIAS_CHAMPION and tags[TAG_GATE_DECISION] == GATE_PASSED
    assert tags[TAG_CHAMPION_VERSION] == "3" and tags[TAG_GATE_PASSED_OVER] == "1,2"
    assert [rule["metric"] for rule in json.loads(tags[TAG_GATE_THRESHOLDS])] == [
        rule.metric for rule in RULES]
    assert decision_metrics(passed) == {
        **{f"candidate_{k}": v for k, v in passed.candidate.items()},
        **{f"champion_{k}": v for k, v in CHAMPION.items()}}

    first = apply_gate(RULES, CHAMPION, None)
    assert TAG_CHAMPION_VERSION not in decision_tags(first, RULES)
    assert TAG_GATE_PASSED_OVER not in decision_tags(first, RULES, [])
    assert set(decision_metrics(first)) == {f"candidate_{k}" for k in CHAMPION}


def test_a_champion_that_cannot_be_backtested_leaves_it_to_a_person():
    decision = not_comparable(CHAMPION, "4", ValueError("its train run is deleted\nmore detail"))
    assert (decision.alias, decision.decision) == (ALIAS_CHALLENGER, GATE_NOT_COMPARABLE)
    assert decision.reason == ("champion v4 cannot be backtested on these rows (its train run is "
                               f"deleted); move @{ALIAS_CHAMPION} by hand if this version should "
                               "replace it")
    assert decision.champion is None and decision.champion_version == "4"
