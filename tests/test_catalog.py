"""The catalog: products, departments, experiment tags, models."""

import pytest

from grocery.config import load_config
from grocery.errors import UserError
from grocery.names import registered_model_name

CATALOG = load_config()


def test_the_five_products_and_their_experiments():
    assert {p.name: (p.department, p.experiment) for p in CATALOG.products.values()} == {
        "apples": ("produce", "Apple_Models"),
        "cherries": ("produce", "Cherry_Models"),
        "carrots": ("produce", "Carrot_Models"),
        "milk": ("dairy", "Milk_Models"),
        "cheese": ("dairy", "Cheese_Models"),
    }


def test_apples_keep_the_tutorials_figures():
    apples = CATALOG.generators["apples"]
    assert (apples.base_demand, apples.noise_std, apples.price_range) == (1000, 50, (0.5, 3.0))
    assert apples.promo_months == (4, 10)
    for product in CATALOG.generators.values():  # the tutorial's noise proportion everywhere
        assert product.noise_std / product.base_demand == pytest.approx(0.05)


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("milk", ["milk"]),
        ("dairy", ["milk", "cheese"]),
        ("Produce", ["apples", "cherries", "carrots"]),
        ("all", ["apples", "cherries", "carrots", "milk", "cheese"]),
    ],
)
def test_product_selectors(selector, expected):
    assert [p.name for p in CATALOG.resolve(selector)] == expected


def test_unknown_product_lists_the_valid_names():
    with pytest.raises(UserError) as error:
        CATALOG.resolve("bananas")
    assert str(error.value) == (
        "unknown product 'bananas'; valid names: apples, cherries, carrots, milk, cheese, "
        "dairy, produce, all"
    )


def test_experiment_tags_are_the_tutorials_plus_product():
    tags = CATALOG.experiment_tags(CATALOG.products["apples"])
    assert tags["project_name"] == "grocery-forecasting"
    assert tags["store_dept"] == "produce"
    assert tags["team"] == "stores-ml"
    assert tags["project_quarter"] == "Q3-2023"
    assert tags["product"] == "apples"
    assert "grocery-forecasting" in tags["mlflow.note.content"]
    assert "apples" in tags["mlflow.note.content"] and "produce" in tags["mlflow.note.content"]


def test_registered_model_name_rule():
    assert registered_model_name("milk") == "grocery-forecasting-milk"
    assert CATALOG.products["cheese"].registered_model == "grocery-forecasting-cheese"


def test_unknown_model_is_a_user_error():
    with pytest.raises(UserError, match="unknown model 'xgboost'; valid models: random_forest"):
        CATALOG.model("xgboost")
