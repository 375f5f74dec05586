"""Estimators from the catalog and the metrics; the alias rule."""

import math

import numpy as np
import pytest
from sklearn.ensemble import RandomForestRegressor

from grocery.config import load_config
from grocery.errors import UserError
from grocery.modeling import build_estimator, regression_metrics, resolve_hyperparameters
from grocery.registry import decide_alias

RANDOM_FOREST = load_config().model("random_forest")


def test_random_forest_is_the_tutorials():
    estimator = build_estimator(RANDOM_FOREST, resolve_hyperparameters(RANDOM_FOREST, {}))
    assert isinstance(estimator, RandomForestRegressor)
    params = estimator.get_params()
    assert {k: params[k] for k in RANDOM_FOREST.params} == {
        "n_estimators": 100, "max_depth": 6, "min_samples_split": 10, "min_samples_leaf": 4,
        "bootstrap": True, "oob_score": False, "random_state": 888,
    }


def test_overrides_are_typed_like_their_defaults():
    params = resolve_hyperparameters(
        RANDOM_FOREST, {"max_depth": "9", "bootstrap": "false", "random_state": "None"}
    )
    assert params["max_depth"] == 9 and params["bootstrap"] is False
    assert params["random_state"] is None


def test_unknown_or_bad_hyperparameters_are_user_errors():
    with pytest.raises(UserError, match="unknown hyperparameter 'depth' for model 'random_forest'"):
        resolve_hyperparameters(RANDOM_FOREST, {"depth": "3"})
    with pytest.raises(UserError, match="hyperparameter max_depth='deep' is not a valid value"):
        resolve_hyperparameters(RANDOM_FOREST, {"max_depth": "deep"})


def test_metrics():
    metrics = regression_metrics(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0]))
    assert metrics["mae"] == pytest.approx(2 / 3)
    assert metrics["mse"] == pytest.approx(4 / 3)
    assert metrics["rmse"] == pytest.approx(math.sqrt(4 / 3))
    assert metrics["r2"] == pytest.approx(1 - 4 / 2)


def test_champion_moves_only_on_a_strictly_lower_rmse():
    assert decide_alias(10.0, None) == "champion"
    assert decide_alias(9.0, 10.0) == "champion"
    assert decide_alias(10.0, 10.0) == "challenger"
    assert decide_alias(11.0, 10.0) == "challenger"
