"""The Model Registry: one registered model per product, versions with lineage, and aliases."""

from __future__ import annotations

from dataclasses import dataclass

import mlflow
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from grocery.catalog import ALIAS_CHALLENGER, ALIAS_CHAMPION, Catalog, Product


@dataclass(frozen=True)
class AliasDecision:
    """Which alias a new version got, and the rmse values that decided it."""

    alias: str
    candidate_rmse: float
    champion_rmse: float | None
    champion_version: str | None

    @property
    def reason(self) -> str:
        if self.champion_rmse is None:
            return "no champion yet"
        verb = "beats" if self.alias == ALIAS_CHAMPION else "does not beat"
        return (f"rmse {self.candidate_rmse:.4f} {verb} champion v{self.champion_version} "
                f"rmse {self.champion_rmse:.4f}")


def ensure_registered_model(client: MlflowClient, catalog: Catalog, product: Product) -> str:
    """The product's registered model name, created with a description and tags on first use."""
    name = product.registered_model
    try:
        client.get_registered_model(name)
    except MlflowException:
        try:
            client.create_registered_model(
                name,
                tags={
                    "product": product.name,
                    "store_dept": product.department,
                    "project_name": catalog.project,
                },
                description=(
                    f"Daily demand forecast for {product.name} ({product.department}), "
                    f"{catalog.project}. Versions are registered by the pipeline's `register` "
                    f"step; `@{ALIAS_CHAMPION}` is the best validation rmse so far."
                ),
            )
        except MlflowException:
            client.get_registered_model(name)  # created meanwhile by another pipeline
    return name


def current_champion(client: MlflowClient, name: str) -> ModelVersion | None:
    """The version that holds ``champion``, or None."""
    try:
        return client.get_model_version_by_alias(name, ALIAS_CHAMPION)
    except MlflowException:
        return None


def decide_alias(candidate_rmse: float, champion_rmse: float | None) -> str:
    """``champion`` if the candidate is strictly better (or there is none), else ``challenger``."""
    if champion_rmse is None or candidate_rmse < champion_rmse:
        return ALIAS_CHAMPION
    return ALIAS_CHALLENGER


def register_version(name: str, model_uri: str, tags: dict[str, str]) -> ModelVersion:
    """A new version of ``name`` from ``model_uri``, created with its lineage tags at once."""
    return mlflow.register_model(model_uri, name, tags=tags)


def assign_alias(
    client: MlflowClient, version: ModelVersion, candidate_rmse: float
) -> AliasDecision:
    """Move ``champion`` to ``version`` if it beats the current one; else mark it challenger."""
    champion = current_champion(client, version.name)
    champion_rmse = float(champion.tags["rmse"]) if champion is not None else None
    alias = decide_alias(candidate_rmse, champion_rmse)
    client.set_registered_model_alias(version.name, alias, version.version)
    return AliasDecision(
        alias=alias,
        candidate_rmse=candidate_rmse,
        champion_rmse=champion_rmse,
        champion_version=champion.version if champion is not None else None,
    )
