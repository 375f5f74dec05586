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
