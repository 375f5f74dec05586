"""grocery.config: catalog.yaml read once into typed products, generators, models and the gate."""

from __future__ import annotations

import pytest
import yaml

from grocery.config import CATALOG_PATH, PROJECT_DIR, load_config, own_product, parse_config
from grocery.errors import UserError
from grocery.names import ALL_PRODUCTS, TAG_DEPARTMENT, TAG_NOTE, TAG_PRODUCT, TAG_PROJECT

CONFIG = load_config()
RAW = yaml.safe_load(CATALOG_PATH.read_text())


def test_products_are_the_catalogs_in_order_with_identity_apart_from_generators():
    assert list(CONFIG.products) == list(RAW["products"]) == list(CONFIG.generators)
    for name, spec in RAW["products"].items():
        product = CONFIG.products[name]
        assert (product.name, product.department, product.experiment) == (
            name, spec["department"], spec["experiment"])
        assert CONFIG.generators[name].base_demand == spec["base_demand"]
        assert not hasattr(product, "base_demand")


def test_apples_keep_the_tutorials_experiment_and_figures():
    assert CONFIG.products["apples"].experiment == "Apple_Models"
    apples = CONFIG.generators["apples"]
    assert (apples.base_demand, apples.noise_std, apples.price_range) == (1000, 50, (0.5, 3.0))
    assert apples.promo_months == (4, 10)
    for generator in CONFIG.generators.values():  # the tutorial's noise proportion everywhere
        assert generator.noise_std / generator.base_demand == pytest.approx(0.05)


def test_selectors_name_a_product_a_department_or_all():
    first = next(iter(CONFIG.products.values()))
    assert CONFIG.resolve(first.name) == [first]
    for department in CONFIG.departments:
        expected = [p for p in CONFIG.products.values() if p.department == department]
        assert CONFIG.resolve(department.capitalize()) == expected
    assert CONFIG.resolve(ALL_PRODUCTS) == list(CONFIG.products.values())


def test_unknown_product_lists_the_valid_names():
    with pytest.raises(UserError) as error:
        CONFIG.resolve("bananas")
    valid = [*CONFIG.products, *CONFIG.departments, ALL_PRODUCTS]
    assert str(error.value) == f"unknown product 'bananas'; valid names: {', '.join(valid)}"


def test_a_product_added_to_the_catalog_is_selectable_and_tagged():
    raw = yaml.safe_load(CATALOG_PATH.read_text())
    raw["products"]["bread"] = {**raw["products"]["apples"], "department": "bakery",
                                "experiment": "Bread_Models"}
    config = parse_config(raw)
    assert [p.name for p in config.resolve("bakery")] == ["bread"]
    assert config.products["bread"].registered_model == "grocery-forecasting-bread"
    assert config.experiment_tags(config.products["bread"])[TAG_DEPARTMENT] == "bakery"


def test_experiment_tags_are_the_tutorials_plus_product():
    product = next(iter(CONFIG.products.values()))
    tags = CONFIG.experiment_tags(product)
    assert tags[TAG_PROJECT] == RAW["project"]["name"] == "grocery-forecasting"
    assert tags[TAG_DEPARTMENT] == product.department
    assert (tags["team"], tags["project_quarter"]) == ("stores-ml", "Q3-2023")
    assert tags[TAG_PRODUCT] == product.name
    assert product.name in tags[TAG_NOTE] and product.department in tags[TAG_NOTE]


def test_products_outside_the_catalog():
    oat = CONFIG.find_product("oat-milk", "dairy")
    assert (oat.name, oat.department, oat.experiment) == ("oat-milk", "dairy", "Oat_Milk_Models")
    assert own_product("oat-milk", "dairy") == oat
    for call, message in [
        (lambda: CONFIG.find_product("oat-milk"), "pass -P department=<name>"),
        (lambda: CONFIG.find_product("Oat Milk", "dairy"), "is not a lowercase slug"),
        (lambda: CONFIG.find_product("apples", "dairy"), "leave department out"),
    ]:
        with pytest.raises(UserError, match=message):
            call()


def test_models_gate_and_trusted_types():
    assert CONFIG.default_model in CONFIG.models
    assert [rule.metric for rule in CONFIG.gate] == list(RAW["champion_gate"])
    choice = CONFIG.model("random_forest")
    assert CONFIG.trusted_types(choice) == [*choice.skops_trusted_types,
                                            *RAW["feature_skops_trusted_types"]]
    with pytest.raises(UserError, match="unknown model 'xgboost'; valid models: random_forest"):
        CONFIG.model("xgboost")


def test_mlproject_defaults_name_the_catalogs_default_model():
    entry_points = yaml.safe_load((PROJECT_DIR / "MLproject").read_text())["entry_points"]
    defaults = {name: spec["parameters"]["model"].get("default")
                for name, spec in entry_points.items() if "model" in spec.get("parameters", {})
                and isinstance(spec["parameters"]["model"], dict)}
    assert defaults.get("main") == defaults.get("train") == CONFIG.default_model
