"""grocery.modeling: estimators and models from the catalog, hyperparameters and the metrics."""

import math

import numpy as np
import pytest
from sklearn.ensemble import RandomForestRegressor

from grocery.config import load_config
from grocery.dataset import DATE, TARGET, noise_floor, simulate_sales, split_sales
from grocery.errors import UserError
from grocery.modeling import (
    build_estimator,
    build_model,
    regression_metrics,
    resolve_hyperparameters,
    rmse_to_noise,
)

CONFIG = load_config()
RANDOM_FOREST = CONFIG.model("random_forest")


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


@pytest.mark.parametrize("product", list(CONFIG.products))
def test_default_model_reaches_the_noise_floor(product):
    """The issue's bound: <= 1.10 (the benchmark in docs/benchmarks.md holds the goal, 1.05)."""
    frame, noise = simulate_sales(CONFIG.generators[product], 1000, "2023-10-03", 9999)
    train, validation = split_sales(frame, 0.2)
    choice = CONFIG.model(CONFIG.default_model)
    model = build_model(choice, resolve_hyperparameters(choice, {}), train, TARGET, DATE)
    predictions = model.fit(train, train[TARGET]).predict(validation)
    rmse = regression_metrics(validation[TARGET].to_numpy(), predictions)["rmse"]
    assert rmse_to_noise(rmse, noise_floor(noise, validation.index)) <= 1.10
