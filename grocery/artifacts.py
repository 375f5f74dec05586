"""The prepared dataset as MLflow artifacts: Parquet files plus a small JSON record of lineage."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException

from grocery.errors import UserError

DATA_DIR = "data"
TRAIN_FILE = "train.parquet"
VALIDATION_FILE = "validation.parquet"
META_FILE = "prepare.json"


def log_prepared(train: pd.DataFrame, validation: pd.DataFrame, meta: dict) -> str:
    """Write train, validation and ``meta`` under the active run's ``data/``; return its URI."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        train.to_parquet(folder / TRAIN_FILE, index=False)
        validation.to_parquet(folder / VALIDATION_FILE, index=False)
        (folder / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True))
        mlflow.log_artifacts(tmp, DATA_DIR)
    return f"runs:/{mlflow.active_run().info.run_id}/{DATA_DIR}"


def load_prepared(uri: str) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Read back what ``log_prepared`` wrote, from a ``runs:/`` or artifact URI."""
    try:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri))
    except (MlflowException, OSError) as error:
        raise UserError(f"cannot read prepared data at {uri!r}: {error}") from None
    missing = [f for f in (TRAIN_FILE, VALIDATION_FILE, META_FILE) if not (local / f).exists()]
    if missing:
        raise UserError(
            f"{uri!r} is not a prepare run's data folder (missing {', '.join(missing)}); "
            f"pass runs:/<prepare run id>/{DATA_DIR}"
        )
    meta = json.loads((local / META_FILE).read_text())
    return (
        pd.read_parquet(local / TRAIN_FILE),
        pd.read_parquet(local / VALIDATION_FILE),
        meta,
    )


def dataset_source(data_uri: str, file: str) -> str:
    """The storage URI of one prepared file (``runs:/`` resolved), recorded as its source."""
    if data_uri.startswith("runs:/"):
        from mlflow.store.artifact.runs_artifact_repo import RunsArtifactRepository

        data_uri = RunsArtifactRepository.get_underlying_uri(data_uri)
    return f"{data_uri.rstrip('/')}/{file}"
