"""The champion gate and MLproject's default model, as tested before the restructuring."""

from __future__ import annotations

import pytest
import yaml

from grocery.config import GateThreshold, load_config
from grocery.gate import apply_gate
from tests.conftest import PROJECT_DIR

CATALOG = load_config()
SETTINGS = load_config()


def test_mlproject_defaults_name_the_catalogs_default_model():
    entry_points = yaml.safe_load((PROJECT_DIR / "MLproject").read_text())["entry_points"]
    assert SETTINGS.default_model in CATALOG.models
    assert entry_points["train"]["parameters"]["model"]["default"] == SETTINGS.default_model
    assert [c.name for c in CATALOG.models.values()] == [
        "random_forest", "hist_gradient_boosting", "ridge"]


GATE = (GateThreshold("rmse", 0.0, must_improve=True), GateThreshold("mae", 0.05))
CHAMPION = {"rmse": 10.0, "mae": 8.0}


@pytest.mark.parametrize(
    ("candidate", "alias", "decision"),
    [
        ({"rmse": 9.0, "mae": 8.0}, "champion", "passed"),
        ({"rmse": 9.0, "mae": 8.39}, "champion", "passed"),  # mae 4.9% worse: allowed
        ({"rmse": 9.0, "mae": 8.41}, "challenger", "failed"),  # mae 5.1% worse
        ({"rmse": 10.0, "mae": 7.0}, "challenger", "failed"),  # rmse equal: not an improvement
        ({"rmse": 10.5, "mae": 7.0}, "challenger", "failed"),
    ],
)
def test_champion_gate(candidate, alias, decision):
    result = apply_gate(GATE, candidate, CHAMPION, "3")
    assert (result.alias, result.decision) == (alias, decision)
    assert result.champion == CHAMPION and result.champion_version == "3"
    if decision == "failed":
        assert result.reason.startswith("fails the gate against champion v3: Metric ")
        assert "\n" not in result.reason


def test_gate_without_a_champion_and_the_catalogs_rules():
    assert apply_gate(GATE, {"rmse": 1.0, "mae": 1.0}, None).alias == "champion"
    assert SETTINGS.gate == GATE
