"""The product catalog (catalog.yaml): products, departments, experiment names and tags.

Every name rule of the project (experiment, registered model, tag keys, aliases) lives here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from grocery.errors import UserError

CATALOG_PATH = Path(__file__).resolve().parent.parent / "catalog.yaml"

# Tag keys and aliases, defined once.
TAG_PRODUCT = "product"
TAG_DEPARTMENT = "store_dept"
TAG_PROJECT = "project_name"
TAG_TEAM = "team"
TAG_QUARTER = "project_quarter"
TAG_NOTE = "mlflow.note.content"
TAG_STEP = "grocery.step"
TAG_DATA_DIGEST = "data_digest"
TAG_PREPARE_RUN = "prepare_run_id"
TAG_TRAIN_RUN = "train_run_id"
TAG_REGISTER_RUN = "register_run_id"
TAG_MODEL_URI = "model_uri"
TAG_CODE_DIGEST = "grocery.code_digest"
TAG_GIT_DIRTY = "grocery.git.dirty"
TAG_GIT_REPO = "grocery.git.repo"
TAG_HYPERPARAMETERS = "grocery.hyperparameters"
ALIAS_CHAMPION = "champion"
ALIAS_CHALLENGER = "challenger"
ALL = "all"


@dataclass(frozen=True)
class Product:
    """One product of the catalog and the settings of its synthetic sales."""

    name: str
    department: str
    experiment: str
    base_demand: float
    noise_std: float
    price_range: tuple[float, float]
    promo_months: tuple[int, ...]
    seasonal_amplitude: float
    seasonal_peak_month: int

    @property
    def registered_model(self) -> str:
        return registered_model_name(self.name)


@dataclass(frozen=True)
class ModelChoice:
    """An estimator `train` can fit, with its default hyperparameters."""

    name: str
    estimator: str
    family: str
    params: dict
    skops_trusted_types: tuple[str, ...]


@dataclass(frozen=True)
class Catalog:
    project: str
    team: str
    quarter: str
    products: dict[str, Product]
    models: dict[str, ModelChoice]

    @property
    def departments(self) -> list[str]:
        return sorted({p.department for p in self.products.values()})

    def resolve(self, selector: str) -> list[Product]:
        """Products named by a product, a department or ``all``, in catalog order."""
        key = selector.strip().lower()
        if key == ALL:
            return list(self.products.values())
        if key in self.products:
            return [self.products[key]]
        in_department = [p for p in self.products.values() if p.department == key]
        if in_department:
            return in_department
        valid = [*self.products, *self.departments, ALL]
        raise UserError(f"unknown product {selector!r}; valid names: {', '.join(valid)}")

    def product(self, name: str) -> Product:
        """Exactly one product by name."""
        if name not in self.products:
            raise UserError(f"unknown product {name!r}; valid products: {', '.join(self.products)}")
        return self.products[name]

    def model(self, name: str) -> ModelChoice:
        if name not in self.models:
            raise UserError(f"unknown model {name!r}; valid models: {', '.join(self.models)}")
        return self.models[name]

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


def registered_model_name(product: str) -> str:
    """The Model Registry name of a product's model."""
    return f"grocery-forecasting-{product}"


@cache
def load_catalog(path: Path = CATALOG_PATH) -> Catalog:
    """Read catalog.yaml into typed records."""
    raw = yaml.safe_load(Path(path).read_text())
    products = {
        name: Product(
            name=name,
            department=spec["department"],
            experiment=spec["experiment"],
            base_demand=float(spec["base_demand"]),
            noise_std=float(spec["noise_std"]),
            price_range=(float(spec["price_range"][0]), float(spec["price_range"][1])),
            promo_months=tuple(int(m) for m in spec["promo_months"]),
            seasonal_amplitude=float(spec["seasonal_amplitude"]),
            seasonal_peak_month=int(spec["seasonal_peak_month"]),
        )
        for name, spec in raw["products"].items()
    }
    models = {
        name: ModelChoice(
            name=name,
            estimator=spec["estimator"],
            family=spec["family"],
            params=dict(spec["params"]),
            skops_trusted_types=tuple(spec.get("skops_trusted_types", [])),
        )
        for name, spec in raw["models"].items()
    }
    project = raw["project"]
    return Catalog(
        project=project["name"],
        team=project["team"],
        quarter=project["quarter"],
        products=products,
        models=models,
    )


# --- Products outside the catalog (a user's own sales table), and settings beyond the catalog.

TAG_MODEL_FAMILY = "model_family"
TAG_TARGET = "target"
TAG_DATE_COLUMN = "date_column"
TAG_DATA_SOURCE = "data_source"
# Experiment tags of the experiment rule: the data schema and model family its runs share.
TAG_EXPERIMENT_SCHEMA = "grocery.data_schema"
TAG_EXPERIMENT_SCHEMA_DIGEST = "grocery.data_schema_digest"
TAG_EXPERIMENT_FAMILY = "grocery.model_family"
# Where the parent run of `main` records the experiment its steps went to, and why (the reason
# is also a tag of an experiment the rule created beside the product's).
TAG_EXPERIMENT_CHOSEN = "grocery.experiment"
TAG_EXPERIMENT_REASON = "grocery.experiment_reason"
TAG_GATE_DECISION = "gate_decision"
TAG_GATE_REASON = "gate_reason"
TAG_GATE_THRESHOLDS = "gate_thresholds"

_SLUG = r"[a-z0-9]+(?:[-_][a-z0-9]+)*"


def experiment_name_for(product: str) -> str:
    """The experiment of a product outside the catalog: ``oat-milk`` -> ``Oat_Milk_Models``."""
    import re

    return "_".join(part.capitalize() for part in re.split(r"[-_]", product)) + "_Models"


def own_product(name: str, department: str) -> Product:
    """A product outside the catalog, named by a lowercase slug, with its department."""
    import math
    import re

    if not re.fullmatch(_SLUG, name):
        raise UserError(f"product {name!r} is not a lowercase slug (letters, digits, '-' or '_' "
                        "between them), e.g. oat-milk")
    if not department:
        raise UserError(f"product {name!r} is not in the catalog; pass -P department=<name> for "
                        "its store_dept tag")
    if not re.fullmatch(_SLUG, department):
        raise UserError(f"department {department!r} is not a lowercase slug, e.g. bakery")
    return Product(name=name, department=department, experiment=experiment_name_for(name),
                   base_demand=math.nan, noise_std=math.nan, price_range=(math.nan, math.nan),
                   promo_months=(), seasonal_amplitude=math.nan, seasonal_peak_month=0)


def find_product(catalog: Catalog, name: str, department: str = "") -> Product:
    """The catalog's product ``name`` (``department`` must agree if given), else an own one."""
    if name in catalog.products:
        product = catalog.products[name]
        if department and department != product.department:
            raise UserError(f"product {name!r} is in department {product.department!r} in the "
                            f"catalog, not {department!r}; leave department out")
        return product
    return own_product(name, department)


@dataclass(frozen=True)
class GateThreshold:
    """A champion gate rule for one metric: the candidate may not be worse than the champion by
    more than ``max_relative_regression`` (0 = must not be worse)."""

    metric: str
    max_relative_regression: float
    greater_is_better: bool = False
    must_improve: bool = False  # strictly better than the champion, not merely no worse


@dataclass(frozen=True)
class Settings:
    """catalog.yaml beyond products and models: the default model and the champion gate."""

    default_model: str
    gate: tuple[GateThreshold, ...]
    pipeline_trusted_types: tuple[str, ...]


@cache
def load_settings(path: Path = CATALOG_PATH) -> Settings:
    raw = yaml.safe_load(Path(path).read_text())
    gate = tuple(
        GateThreshold(metric=metric, max_relative_regression=float(rule["max_relative_regression"]),
                      greater_is_better=bool(rule.get("greater_is_better", False)),
                      must_improve=bool(rule.get("must_improve", False)))
        for metric, rule in raw["champion_gate"].items()
    )
    return Settings(default_model=raw["default_model"], gate=gate,
                    pipeline_trusted_types=tuple(raw["pipeline_skops_trusted_types"]))
