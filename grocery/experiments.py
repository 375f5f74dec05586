"""The tutorial's experiment rule: a new experiment when the data format or the model changes.

Each experiment records the data schema (column names and kinds) and the model family of its
runs as tags. A run goes to its product's experiment when that experiment holds the same schema
and family (or has none recorded yet: it then takes the run's). Otherwise it goes to a sibling
experiment whose name shows what changed, relative to the product's experiment:

    <product experiment>-<model family>            the model family differs
    <product experiment>-schema-<schema digest>    the data schema differs
    <product experiment>-<family>-schema-<digest>  both differ

e.g. ``Apple_Models-linear`` or ``Apple_Models-schema-3f9c2a1b``. If that name is taken by an
experiment holding something else, ``-2``, ``-3``, ... is appended.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from mlflow.entities import Experiment
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_ALREADY_EXISTS, ErrorCode
from mlflow.tracking import MlflowClient

from grocery.config import Config, Product, load_config
from grocery.dataset import DATE, TARGET, content_digest, generate_sales
from grocery.names import (
    TAG_EXPERIMENT_FAMILY,
    TAG_EXPERIMENT_REASON,
    TAG_EXPERIMENT_SCHEMA,
    TAG_EXPERIMENT_SCHEMA_DIGEST,
)
from grocery.own_data import read_own_table
from grocery.roles import parse_columns
from grocery.tracking import adopt_experiment, artifact_location

# MLflow keeps tag values up to this length; the digest decides, the text is for people.
_MAX_TAG = 5000


def column_kind(series: pd.Series) -> str:
    """A column's kind as the model sees it: boolean, integer, number, datetime or string."""
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_numeric_dtype(series):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    return "string"


def data_schema(frame: pd.DataFrame, target: str, date_column: str) -> list[list[str]]:
    """``[[column, kind, role], ...]`` in the table's order; role is target, date or feature."""
    def role(column: str) -> str:
        return "target" if column == target else "date" if column == date_column else "feature"

    return [[str(c), column_kind(frame[c]), role(c)] for c in frame.columns]


def schema_digest(schema: list[list[str]]) -> str:
    """A short digest that names a schema in experiment names and tags."""
    return hashlib.sha256(json.dumps(schema).encode()).hexdigest()[:8]


def experiment_tags(schema: list[list[str]], family: str) -> dict[str, str]:
    """The rule's tags of an experiment holding runs of ``schema`` and ``family``."""
    text = ", ".join(f"{name} ({kind}, {role})" for name, kind, role in schema)
    return {
        TAG_EXPERIMENT_SCHEMA: text if len(text) <= _MAX_TAG else text[: _MAX_TAG - 3] + "...",
        TAG_EXPERIMENT_SCHEMA_DIGEST: schema_digest(schema),
        TAG_EXPERIMENT_FAMILY: family,
    }


@dataclass(frozen=True)
class ExperimentChoice:
    """Where a run goes: the experiment name, the rule's tags for it, and why."""

    name: str
    tags: dict[str, str]
    reason: str
    created: bool = False  # by this pipeline, just now: it holds no run yet


# Why a run went to its product's own experiment (the rule moved nothing).
OWN_EXPERIMENT = "the product's own experiment"


def _holds(tags: dict[str, str] | None) -> tuple[str, str] | None:
    """(schema digest, family) an experiment records, or None if it records none (or is new)."""
    if not tags or TAG_EXPERIMENT_SCHEMA_DIGEST not in tags or TAG_EXPERIMENT_FAMILY not in tags:
        return None
    return tags[TAG_EXPERIMENT_SCHEMA_DIGEST], tags[TAG_EXPERIMENT_FAMILY]


def choose_experiment(base: str, schema: list[list[str]], family: str,
                      tags_of: Callable[[str], dict[str, str] | None]) -> ExperimentChoice:
    """The experiment for a run of ``schema`` and ``family`` whose product experiment is
    ``base``; ``tags_of(name)`` gives an existing experiment's tags, None if there is none."""
    wanted = experiment_tags(schema, family)
    digest = wanted[TAG_EXPERIMENT_SCHEMA_DIGEST]
    held = _holds(tags_of(base))
    if held is None:
        return ExperimentChoice(base, wanted, f"{base} records no schema or model family yet")
    if held == (digest, family):
        return ExperimentChoice(base, wanted, f"{base} holds the same schema and model family")
    changes, suffix = [], ""
    if held[1] != family:
        suffix += f"-{family}"
        changes.append(f"model family {family} (it holds {held[1]})")
    if held[0] != digest:
        suffix += f"-schema-{digest}"
        changes.append(f"data schema {digest} (it holds {held[0]})")
    reason = f"{base} holds other runs: this one has {' and '.join(changes)}"
    name, number = f"{base}{suffix}", 1
    while _holds(tags_of(name)) not in (None, (digest, family)):
        number += 1
        name = f"{base}{suffix}-{number}"
    return ExperimentChoice(name, wanted, reason)


def synthetic_schema(stores: int = 1) -> list[list[str]]:
    """The schema of the catalog's synthetic sales (the same for every product; a chain of
    ``stores`` > 1 has its store key besides)."""
    generator = next(iter(load_config().generators.values()))
    return data_schema(generate_sales(generator, 8, "2023-10-03", 0, min(stores, 2)), TARGET,
                       DATE)


# A pipeline that loses the race for a fresh experiment chooses again; each loss means another
# pipeline created an experiment meanwhile, so a few rounds always settle.
_CLAIM_ROUNDS = 5


def route_run(client: MlflowClient, catalog: Config, product: Product,
              schema: list[list[str]], family: str) -> tuple[str, ExperimentChoice]:
    """The id of the experiment a pipeline of ``schema`` and ``family`` runs in, by the rule,
    created with the product's tags and the rule's in one call, or claimed on first use.

    Creating a fresh experiment is the claim: names are unique, so of two pipelines racing for
    one, the other's creation fails and it chooses again, now seeing what the winner holds.
    Each name is looked up once per round (a server shared by many pipelines counts requests).
    """
    found: dict[str, Experiment | None] = {}

    def lookup(name: str) -> Experiment | None:
        if name not in found:
            found[name] = client.get_experiment_by_name(name)
        return found[name]

    def tags_of(name: str) -> dict[str, str] | None:
        experiment = lookup(name)
        return None if experiment is None else dict(experiment.tags)

    for _ in range(_CLAIM_ROUNDS):
        found.clear()  # a new round sees what other pipelines created meanwhile
        choice = choose_experiment(product.experiment, schema, family, tags_of)
        tags = rule_tags(choice, product)
        existing = lookup(choice.name)
        if existing is None:
            created = create_claimed(client, catalog, product, choice.name, tags)
            if created is not None:
                return created, dataclasses.replace(choice, created=True)
        elif _holds(existing.tags) in (None, _holds(tags)):
            experiment_id = adopt_experiment(client, catalog, product, existing)
            if _holds(existing.tags) is None:  # made by hand, without the rule's tags
                for key, value in tags.items():
                    client.set_experiment_tag(experiment_id, key, value)
            return experiment_id, choice
        # else another pipeline claimed it since it was chosen: choose again
    raise RuntimeError(f"no experiment for {product.name} after {_CLAIM_ROUNDS} rounds of "
                       "other pipelines creating them")


@dataclass(frozen=True)
class Route:
    """Where one product's pipeline runs: its experiment's id and name, why the experiment rule
    chose it, and whether this pipeline just created it (a new experiment holds nothing to
    reuse, so the step cache is not asked)."""

    experiment_id: str
    experiment: str
    reason: str = OWN_EXPERIMENT
    new: bool = False


def route_to(experiment: Experiment) -> Route:
    """The route to an existing ``experiment``, with the reason its tag records."""
    return Route(experiment.experiment_id, experiment.name,
                 experiment.tags.get(TAG_EXPERIMENT_REASON, OWN_EXPERIMENT))


def route_for(client: MlflowClient, catalog: Config, product: Product,
              schema: list[list[str]], family: str) -> Route:
    """``route_run``'s experiment as a pipeline's route, with why the rule chose it (as the
    experiment's tag records it)."""
    experiment_id, choice = route_run(client, catalog, product, schema, family)
    reason = rule_tags(choice, product).get(TAG_EXPERIMENT_REASON, OWN_EXPERIMENT)
    return Route(experiment_id, choice.name, reason, choice.created)


def rule_tags(choice: ExperimentChoice, product: Product) -> dict[str, str]:
    """The rule's tags for ``choice``, with why it exists when it is a sibling."""
    if choice.name == product.experiment:
        return dict(choice.tags)
    return {**choice.tags, TAG_EXPERIMENT_REASON: choice.reason}


def create_claimed(client: MlflowClient, catalog: Config, product: Product, name: str,
                   tags: dict[str, str]) -> str | None:
    """Create experiment ``name`` holding the product's tags and the rule's ``tags`` at once;
    its id, or None when another pipeline created it first."""
    try:
        return client.create_experiment(name, artifact_location=artifact_location(name),
                                        tags={**catalog.experiment_tags(product), **tags})
    except MlflowException as error:
        if error.error_code != ErrorCode.Name(RESOURCE_ALREADY_EXISTS):
            raise
        return None


def input_schema(args: argparse.Namespace) -> tuple[list[list[str]], str | None]:
    """The schema of a pipeline's input as prepare will log it and, for a user's table, its
    content digest (for prepare's cache key: the same path with new rows is new data).

    The catalog's synthetic sales have no digest: their parameters decide them. A bad table
    raises prepare's UserError before any run starts.
    """
    if not args.data:
        return synthetic_schema(int(args.stores)), None
    table = read_own_table(args.data, args.target, args.date_column,
                           float(args.validation_fraction), args.split, int(args.horizon),
                           int(args.folds), parse_columns(args.known_ahead),
                           parse_columns(args.series))
    return data_schema(table, args.target, args.date_column), content_digest(table)
