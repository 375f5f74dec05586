"""The contract between prepare and train: the prepared data as run artifacts (two Parquet
files and ``prepare.json``), the typed record of where they came from, and their dataset inputs.

This module alone writes and reads ``prepare.json``; its keys are those of every earlier prepare
run, so older runs still load.
"""

from __future__ import annotations

import functools
import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.data.dataset_source import DatasetSource
from mlflow.data.pandas_dataset import PandasDataset
from mlflow.entities import DatasetInput, InputTag, Run
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

from grocery.config import Product
from grocery.dataset import DATE, TARGET, SplitSales, combined_digest, content_digest
from grocery.errors import UserError
from grocery.frequency import Frequency
from grocery.names import (
    TAG_DATA_SOURCE,
    TAG_DATE_COLUMN,
    TAG_DEPARTMENT,
    TAG_FREQUENCY,
    TAG_KNOWN_AHEAD,
    TAG_OBSERVED,
    TAG_PRODUCT,
    TAG_SERIES,
    TAG_TARGET,
    TAG_TARGET_LAGS,
)
from grocery.own_data import data_name
from grocery.roles import ColumnRoles
from grocery.tracking import artifact_uri_of, log_folder

DATA_DIR = "data"
TRAIN_FILE = "train.parquet"
VALIDATION_FILE = "validation.parquet"
META_FILE = "prepare.json"
SYNTHETIC = "synthetic"  # the data source of the catalog's generated sales
# The dataset contexts of a run's inputs, and the file each one is read from.
TRAINING, VALIDATION, EVALUATION = "training", "validation", "evaluation"
SPLIT_CONTEXTS = (TRAINING, VALIDATION)  # what prepare logs; train adds the backtest's table
CONTEXTS = (*SPLIT_CONTEXTS, EVALUATION)
# A dataset's name after its product: apples-training, apples-validation, apples-backtest.
DATASET_NAMES = {TRAINING: TRAINING, VALIDATION: VALIDATION, EVALUATION: "backtest"}
FILES = {TRAINING: TRAIN_FILE, VALIDATION: VALIDATION_FILE}


@dataclass(frozen=True)
class PreparedData:
    """What train needs to know about a prepare run's data besides the rows themselves."""

    product: str
    department: str
    prepare_run_id: str
    data_digest: str
    digests: dict[str, str]  # per context: training, validation
    source: str  # the user's ``data`` (no credentials, no query string), or ``synthetic``
    target: str = TARGET
    date_column: str = DATE
    schema: list = field(default_factory=list)  # experiments.data_schema of the whole table
    noise_floor: float | None = None  # known for synthetic data only
    # The forecast task (older prepare runs take the defaults): how validation was split off
    # (``time``: the backtest's last folds x horizon rows), the step size, and column roles.
    split: str = "time"
    horizon: int = 14
    folds: int = 5
    frequency: str = "daily"
    season: int = 7
    step_days: int = 1
    known_ahead: list = field(default_factory=list)
    observed: list = field(default_factory=list)
    target_lags: dict = field(default_factory=dict)  # column -> the target's lag it repeats
    series: list = field(default_factory=list)  # the series key columns (empty: one series)

    def to_json(self) -> str:
        """``prepare.json``: every field, ``noise_floor`` only when known."""
        record = asdict(self)
        if self.noise_floor is None:
            del record["noise_floor"]
        return json.dumps(record, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> PreparedData:
        """A ``prepare.json`` of any prepare run; keys older runs did not write take defaults."""
        record = json.loads(text)
        record.setdefault("department", "")
        record.setdefault("source", SYNTHETIC)
        return cls(**{key: value for key, value in record.items()
                      if key in cls.__dataclass_fields__})


def data_source(data: str) -> str:
    """Where prepared data came from: the user's ``data`` without credentials or query string
    (a pre-signed link's signature), or ``synthetic``."""
    return data_name(data) if data else SYNTHETIC


def forecast_task(split: str, horizon: int, folds: int, frequency: Frequency,
                  roles: ColumnRoles) -> dict[str, Any]:
    """The forecast task's fields of a PreparedData."""
    return {"split": split, "horizon": horizon, "folds": folds, "frequency": frequency.name,
            "season": frequency.season, "step_days": frequency.offset.days,
            "known_ahead": list(roles.known_ahead), "observed": list(roles.observed),
            "target_lags": dict(roles.target_lags)}


def task_tags(prepared: PreparedData) -> dict[str, str]:
    """The column roles and frequency a prepare run found, as tags a person can read."""
    lags = ", ".join(f"{column} (lag {lag})" for column, lag in prepared.target_lags.items())
    return {TAG_KNOWN_AHEAD: ", ".join(prepared.known_ahead) or "-",
            TAG_OBSERVED: ", ".join(prepared.observed) or "-",
            TAG_TARGET_LAGS: lags or "-", TAG_FREQUENCY: prepared.frequency,
            TAG_SERIES: ", ".join(prepared.series) or "-"}


def describe(product: Product, prepare_run_id: str, split: SplitSales, data: str, target: str,
             date_column: str, schema: list, task: dict[str, Any]) -> PreparedData:
    """The record of ``split`` (from the user's ``data``, or synthetic if empty) as prepared by
    run ``prepare_run_id``, with its digests and forecast ``task``."""
    digests = {TRAINING: content_digest(split.train),
               VALIDATION: content_digest(split.validation)}
    return PreparedData(
        product=product.name, department=product.department, prepare_run_id=prepare_run_id,
        data_digest=combined_digest(digests[TRAINING], digests[VALIDATION]), digests=digests,
        source=data_source(data), target=target, date_column=date_column, schema=schema,
        noise_floor=split.noise_floor, series=list(split.series), **task,
    )


def source_tags(product: Product, data: str, target: str, date_column: str) -> dict[str, str]:
    """The tags a prepare run carries from its start: what it prepares, and from where."""
    return {TAG_PRODUCT: product.name, TAG_DEPARTMENT: product.department, TAG_TARGET: target,
            TAG_DATE_COLUMN: date_column, TAG_DATA_SOURCE: data_source(data)}


def row_metrics(split: SplitSales) -> dict[str, float]:
    """A prepare run's metrics: the rows of each side, and the noise floor when known."""
    metrics = {"train_rows": len(split.train), "validation_rows": len(split.validation)}
    if split.noise_floor is not None:
        metrics["noise_floor"] = split.noise_floor
    return metrics


def full_table(train: pd.DataFrame, validation: pd.DataFrame,
               prepared: PreparedData) -> pd.DataFrame:
    """Every prepared row, in date order (each series' rows together, in date order): the
    backtest's table and the final model's."""
    table = pd.concat([train, validation]).sort_values([*prepared.series, prepared.date_column],
                                                       kind="stable")
    return table.reset_index(drop=True)


def prepared_uri(prepare_run_id: str) -> str:
    """Where a prepare run's data lives: ``runs:/<id>/data``."""
    return f"runs:/{prepare_run_id}/{DATA_DIR}"


# A prepare run's whole table and its record, read when first called (``prepared_table``).
PreparedTable = Callable[[], tuple[pd.DataFrame, "PreparedData"]]


def load_prepared_table(uri: str) -> tuple[pd.DataFrame, PreparedData]:
    """The prepared data at ``uri`` as one table (every prepared row, in date order) and its
    record."""
    train, validation, prepared = load_prepared(uri)
    return full_table(train, validation, prepared), prepared


def prepared_table(uri: str) -> PreparedTable:
    """``load_prepared_table(uri)``, downloaded on the first call and kept: a registration
    whose gate refits nothing never reads it."""
    return functools.cache(functools.partial(load_prepared_table, uri))


def log_prepared(run: Run, train: pd.DataFrame, validation: pd.DataFrame,
                 prepared: PreparedData) -> str:
    """Write train, validation and ``prepare.json`` under ``run``'s ``data/``; return the
    folder's URI."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        train.to_parquet(folder / TRAIN_FILE, index=False)
        validation.to_parquet(folder / VALIDATION_FILE, index=False)
        (folder / META_FILE).write_text(prepared.to_json())
        log_folder(run, tmp, DATA_DIR)
    return prepared_uri(run.info.run_id)


def load_prepared(uri: str) -> tuple[pd.DataFrame, pd.DataFrame, PreparedData]:
    """Read back what ``log_prepared`` wrote, from a ``runs:/`` or artifact URI."""
    try:
        local = Path(mlflow.artifacts.download_artifacts(
            artifact_uri=artifact_uri_of(MlflowClient(), uri)))
    except (MlflowException, OSError) as error:
        raise UserError(f"cannot read prepared data at {uri!r}: {error}") from None
    missing = [f for f in (TRAIN_FILE, VALIDATION_FILE, META_FILE) if not (local / f).exists()]
    if missing:
        raise UserError(
            f"{uri!r} is not a prepare run's data folder (missing {', '.join(missing)}); "
            f"pass runs:/<prepare run id>/{DATA_DIR}"
        )
    return (
        pd.read_parquet(local / TRAIN_FILE),
        pd.read_parquet(local / VALIDATION_FILE),
        PreparedData.from_json((local / META_FILE).read_text()),
    )


def datasets(train: pd.DataFrame, validation: pd.DataFrame, prepared: PreparedData,
             data_uri: str, contexts: tuple[str, ...] = CONTEXTS) -> dict[str, PandasDataset]:
    """Train, validation and the backtest's table (every prepared row, which train's metrics
    are scored on) as MLflow datasets, by context (those in ``contexts``), each with its digest
    and its file under ``data_uri`` as source."""
    folder = data_uri.rstrip("/")
    frames = {TRAINING: (train, prepared.digests[TRAINING], f"{folder}/{FILES[TRAINING]}"),
              VALIDATION: (validation, prepared.digests[VALIDATION],
                           f"{folder}/{FILES[VALIDATION]}"),
              EVALUATION: (pd.concat([train, validation], ignore_index=True),
                           prepared.data_digest, folder)}
    return {context: mlflow.data.from_pandas(
                frame, source=RunArtifactDatasetSource(uri), targets=prepared.target,
                name=dataset_name(prepared.product, context), digest=digest)
            for context, (frame, digest, uri) in frames.items() if context in contexts}


def dataset_name(product: str, context: str) -> str:
    """The name of a product's prepared dataset in ``context``, e.g. ``apples-backtest``."""
    return f"{product}-{DATASET_NAMES[context]}"


# How a tracking store's database refuses a second row for the same dataset (experiment, name,
# digest): PostgreSQL names MLflow's key, SQLite its columns, MySQL its primary key.
DATASET_RACE = re.compile(r"\bdataset_pk\b|UNIQUE constraint failed: datasets\."
                          r"|Duplicate entry .* for key '(?:datasets\.)?PRIMARY'")


def lost_dataset_race(error: MlflowException) -> bool:
    """Whether ``error`` is the store refusing a dataset another run logged a moment before.

    MLflow looks a dataset up, then inserts it when it was not there; two runs logging the same
    data into one experiment at once (two users running one product) can both miss it, and the
    second insert fails. The first run's row is there by then."""
    return DATASET_RACE.search(str(error)) is not None


def log_datasets(run_id: str, logged: dict[str, PandasDataset]) -> None:
    """Log ``logged`` (context -> dataset) as run ``run_id``'s inputs, in one request; once
    more if another run logged the same dataset at the same moment (``lost_dataset_race``:
    the refused request wrote nothing, and the second finds the row and links it)."""
    inputs = [DatasetInput(dataset._to_mlflow_entity(),
                           tags=[InputTag(MLFLOW_DATASET_CONTEXT, context)])
              for context, dataset in logged.items()]
    client = MlflowClient()
    try:
        client.log_inputs(run_id, datasets=inputs)
    except MlflowException as error:
        if not lost_dataset_race(error):
            raise
        client.log_inputs(run_id, datasets=inputs)


class RunArtifactDatasetSource(DatasetSource):
    """A file in a run's artifacts, e.g. ``runs:/<run id>/data/train.parquet``.

    MLflow resolves file, s3, gs... sources but not ``runs:/`` or ``mlflow-artifacts:/``, which
    is where prepared data lives behind a tracking server with proxied artifacts. The ``runs:/``
    URI stays valid wherever the artifacts are stored and never carries a server's credentials.
    """

    def __init__(self, uri: str):
        self._uri = uri

    @property
    def uri(self) -> str:
        return self._uri

    @staticmethod
    def _get_source_type() -> str:
        return "run_artifact"

    def load(self, dst_path: str | None = None) -> str:
        """Download the file; return its local path."""
        return mlflow.artifacts.download_artifacts(artifact_uri=self._uri, dst_path=dst_path)

    @staticmethod
    def _can_resolve(raw_source: Any) -> bool:
        return isinstance(raw_source, str) and raw_source.startswith("runs:/")

    @classmethod
    def _resolve(cls, raw_source: Any) -> RunArtifactDatasetSource:
        return cls(raw_source)

    def to_dict(self) -> dict[str, Any]:
        return {"uri": self._uri}

    @classmethod
    def from_dict(cls, source_dict: dict[Any, Any]) -> RunArtifactDatasetSource:
        return cls(source_dict["uri"])
