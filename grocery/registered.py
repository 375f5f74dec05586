"""Registered models by reference: ``<name>/<version>`` or ``<name>@<alias>``, resolved and loaded.

``predict`` and ``lineage`` name a model the same way; both resolve the reference to one model
version first, so everything they do afterwards refers to that version even if an alias moves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import mlflow
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.pyfunc import PyFuncModel
from mlflow.tracking import MlflowClient

from grocery.errors import UserError
from grocery.forecast import Column
from grocery.names import ALIAS_CHAMPION, registered_model_name
from grocery.uris import public_uri

_REFERENCE = re.compile(
    r"^(?:models:/)?(?P<name>[^/@\s]+)(?:/(?P<version>\d+)|@(?P<alias>[\w-]+))$"
)


@dataclass(frozen=True)
class ModelRef:
    """A registered model name with exactly one of a version number or an alias."""

    name: str
    version: str | None = None
    alias: str | None = None

    def __str__(self) -> str:
        return f"{self.name}/{self.version}" if self.version else f"{self.name}@{self.alias}"


def parse_model_ref(text: str) -> ModelRef:
    """``name/version``, ``name@alias`` (optionally prefixed ``models:/``) as a ModelRef."""
    match = _REFERENCE.match(text.strip())
    if match is None:
        raise UserError(
            f"model {text!r} is not <name>/<version> or <name>@<alias>, "
            f"e.g. {registered_model_name('cheese')}@{ALIAS_CHAMPION}"
        )
    return ModelRef(match["name"], version=match["version"], alias=match["alias"])


def product_model_ref(product: str, alias: str = "", version: str = "") -> ModelRef:
    """The reference to a product's model: ``version`` when given, else ``alias``."""
    version, alias = version.strip(), alias.strip()
    name = registered_model_name(product)
    if version:
        if not version.isdigit():
            raise UserError(f"model_version must be a version number, got {version!r}")
        return ModelRef(name, version=version)
    if not alias:
        raise UserError("give a model_alias (e.g. champion) or a model_version")
    return ModelRef(name, alias=alias)


def resolve(client: MlflowClient, ref: ModelRef) -> ModelVersion:
    """The model version ``ref`` names, or a UserError saying what exists instead."""
    try:
        client.get_registered_model(ref.name)
    except MlflowException:
        raise UserError(
            f"no registered model {ref.name!r} in this tracking store "
            f"({public_uri(mlflow.get_tracking_uri())}); run the pipeline first"
        ) from None
    try:
        if ref.version is not None:
            return client.get_model_version(ref.name, ref.version)
        return client.get_model_version_by_alias(ref.name, ref.alias)
    except MlflowException:
        what = f"version {ref.version}" if ref.version else f"alias {ref.alias!r}"
        raise UserError(f"registered model {ref.name!r} has no {what}") from None


def version_uri(version: ModelVersion) -> str:
    """``models:/<name>/<version>``: the version itself, unaffected by later alias moves."""
    return f"models:/{version.name}/{version.version}"


def input_columns(version: ModelVersion) -> list[Column]:
    """The version's input columns, read from its signature without loading the model."""
    signature = mlflow.models.get_model_info(version_uri(version)).signature
    schema = signature.inputs if signature is not None else None
    if schema is None or not schema.has_input_names():
        raise UserError(f"{version.name} v{version.version} has no named input signature")
    return [Column(spec.name, getattr(spec.type, "name", str(spec.type)), spec.required)
            for spec in schema.inputs]


def load_model(version: ModelVersion) -> PyFuncModel:
    """The version as a pyfunc model."""
    return mlflow.pyfunc.load_model(version_uri(version))
