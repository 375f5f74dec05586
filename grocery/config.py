"""The project's configuration: where the project lives, and catalog.yaml read once into typed
objects (products, their generator settings, models, the champion gate, the project's tags).

A product's identity (name, department, experiment) is separate from the settings of its
synthetic sales, so a product outside the catalog (a user's own table) is a whole ``Product``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from grocery.errors import UserError
from grocery.names import (
    ALL_PRODUCTS,
    TAG_DEPARTMENT,
    TAG_NOTE,
    TAG_PRODUCT,
    TAG_PROJECT,
    TAG_QUARTER,
    TAG_TEAM,
    experiment_name_for,
    registered_model_name,
)

PROJECT_DIR = Path(__file__).resolve().parent.parent
CATALOG_PATH = PROJECT_DIR / "catalog.yaml"
REQUIREMENTS_PATH = PROJECT_DIR / "requirements.txt"

_SLUG = r"[a-z0-9]+(?:[-_][a-z0-9]+)*"


@dataclass(frozen=True)
class Product:
    """A product: its name, department (the ``store_dept`` tag) and experiment."""

    name: str
    department: str
    experiment: str

    @property
    def registered_model(self) -> str:
        return registered_model_name(self.name)


@dataclass(frozen=True)
class Generator:
    """The settings of a catalog product's synthetic daily sales (grocery/dataset.py)."""

    base_demand: float
    noise_std: float
    price_range: tuple[float, float]
    promo_months: tuple[int, ...]
    seasonal_amplitude: float
    seasonal_peak_month: int


@dataclass(frozen=True)
class ModelChoice:
    """An estimator `train` can fit, with its default hyperparameters."""

    name: str
    estimator: str
    family: str
    params: dict
    skops_trusted_types: tuple[str, ...]


@dataclass(frozen=True)
class GateThreshold:
    """A champion gate rule for one metric: the candidate may not be worse than the champion by
    more than ``max_relative_regression`` (0 = must not be worse)."""

    metric: str
    max_relative_regression: float
    greater_is_better: bool = False
    must_improve: bool = False  # strictly better than the champion, not merely no worse


@dataclass(frozen=True)
class Config:
    """catalog.yaml as typed records."""

    project: str
    team: str
    quarter: str
    products: dict[str, Product]
    generators: dict[str, Generator]
    models: dict[str, ModelChoice]
    default_model: str
    gate: tuple[GateThreshold, ...]
    # skops types of the feature step every model shares, whatever the estimator.
    feature_trusted_types: tuple[str, ...]
    forecast_strategy: str = "direct"
    # The synthetic sales' columns a store knows for future days, and those it only observes.
    synthetic_known_ahead: tuple[str, ...] = ()
    synthetic_observed: tuple[str, ...] = ()

    @property
    def departments(self) -> list[str]:
        return sorted({p.department for p in self.products.values()})

    def resolve(self, selector: str) -> list[Product]:
        """Products named by a product, a department or ``all``, in catalog order."""
        key = selector.strip().lower()
        if key == ALL_PRODUCTS:
            return list(self.products.values())
        if key in self.products:
            return [self.products[key]]
        in_department = [p for p in self.products.values() if p.department == key]
        if in_department:
            return in_department
        valid = [*self.products, *self.departments, ALL_PRODUCTS]
        raise UserError(f"unknown product {selector!r}; valid names: {', '.join(valid)}")

    def product(self, name: str) -> Product:
        """Exactly one catalog product by name."""
        if name not in self.products:
            raise UserError(f"unknown product {name!r}; valid products: {', '.join(self.products)}")
        return self.products[name]

    def find_product(self, name: str, department: str = "") -> Product:
        """The catalog's product ``name`` (``department`` must agree if given), else an own one."""
        if name in self.products:
            product = self.products[name]
            if department and department != product.department:
                raise UserError(f"product {name!r} is in department {product.department!r} in "
                                f"the catalog, not {department!r}; leave department out")
            return product
        return own_product(name, department)

    def model(self, name: str) -> ModelChoice:
        if name not in self.models:
            raise UserError(f"unknown model {name!r}; valid models: {', '.join(self.models)}")
        return self.models[name]

    def trusted_types(self, model: ModelChoice) -> list[str]:
        """The skops types a fitted ``model`` may be loaded back with (estimator + features)."""
        return [*model.skops_trusted_types, *self.feature_trusted_types]

    def experiment_tags(self, product: Product) -> dict[str, str]:
        """The tags every product experiment carries (the tutorial's, plus ``product``)."""
        return {
            TAG_PROJECT: self.project,
            TAG_DEPARTMENT: product.department,
            TAG_TEAM: self.team,
            TAG_QUARTER: self.quarter,
            TAG_PRODUCT: product.name,
            TAG_NOTE: (
                f"This is the {self.project} project. This experiment contains the "
                f"{product.department} models for {product.name}."
            ),
        }


def own_product(name: str, department: str) -> Product:
    """A product outside the catalog, named by a lowercase slug, with its department."""
    if not re.fullmatch(_SLUG, name):
        raise UserError(f"product {name!r} is not a lowercase slug (letters, digits, '-' or '_' "
                        "between them), e.g. oat-milk")
    if not department:
        raise UserError(f"product {name!r} is not in the catalog; pass -P department=<name> for "
                        "its store_dept tag")
    if not re.fullmatch(_SLUG, department):
        raise UserError(f"department {department!r} is not a lowercase slug, e.g. bakery")
    return Product(name=name, department=department, experiment=experiment_name_for(name))


def _generator(spec: dict) -> Generator:
    return Generator(
        base_demand=float(spec["base_demand"]),
        noise_std=float(spec["noise_std"]),
        price_range=(float(spec["price_range"][0]), float(spec["price_range"][1])),
        promo_months=tuple(int(m) for m in spec["promo_months"]),
        seasonal_amplitude=float(spec["seasonal_amplitude"]),
        seasonal_peak_month=int(spec["seasonal_peak_month"]),
    )


def parse_config(raw: dict) -> Config:
    """catalog.yaml's content as a Config."""
    products = raw["products"]
    return Config(
        project=raw["project"]["name"],
        team=raw["project"]["team"],
        quarter=raw["project"]["quarter"],
        products={name: Product(name, spec["department"], spec["experiment"])
                  for name, spec in products.items()},
        generators={name: _generator(spec) for name, spec in products.items()},
        models={
            name: ModelChoice(name=name, estimator=spec["estimator"], family=spec["family"],
                              params=dict(spec["params"]),
                              skops_trusted_types=tuple(spec.get("skops_trusted_types", [])))
            for name, spec in raw["models"].items()
        },
        default_model=raw["default_model"],
        gate=tuple(
            GateThreshold(metric=metric,
                          max_relative_regression=float(rule["max_relative_regression"]),
                          greater_is_better=bool(rule.get("greater_is_better", False)),
                          must_improve=bool(rule.get("must_improve", False)))
            for metric, rule in raw["champion_gate"].items()
        ),
        feature_trusted_types=tuple(raw["feature_skops_trusted_types"]),
        forecast_strategy=raw["forecast_strategy"],
        synthetic_known_ahead=tuple(raw["synthetic_columns"]["known_ahead"]),
        synthetic_observed=tuple(raw["synthetic_columns"]["observed"]),
    )


@cache
def load_config(path: Path = CATALOG_PATH) -> Config:
    """catalog.yaml, read once per process."""
    return parse_config(yaml.safe_load(Path(path).read_text()))


def pinned_requirements(path: Path = REQUIREMENTS_PATH) -> list[str]:
    """The requirement lines of requirements.txt, without comments or blank lines."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]
