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


def dataset_source(data_uri: str, file: str):  # -> RunArtifactDatasetSource
    """The source recorded for one prepared file: its ``runs:/<prepare run>/data/<file>`` URI."""
    from grocery.dataset_source import RunArtifactDatasetSource

    return RunArtifactDatasetSource(f"{data_uri.rstrip('/')}/{file}")


def fetch_data(data: str, folder: Path) -> Path:
    """A local path to the user's table ``data``: a path, ``file://``, ``http(s)://`` or
    ``runs:/`` URI; remote files are downloaded into ``folder``. A missing remote file raises a
    UserError; a missing local one is left for the reader to report."""
    from urllib.error import URLError
    from urllib.parse import unquote, urlsplit
    from urllib.request import urlopen

    parts = urlsplit(data)
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    if parts.scheme in ("http", "https"):
        target = folder / (Path(unquote(parts.path)).name or "data")
        try:
            with urlopen(data, timeout=60) as answer, target.open("wb") as out:
                while chunk := answer.read(1 << 20):
                    out.write(chunk)
        except (URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", None) or error
            raise UserError(f"{data}: cannot download it: {reason}") from None
        return target
    if parts.scheme and parts.scheme not in ("runs", "mlflow-artifacts"):
        raise UserError(f"{data}: unsupported location; give a path or a file://, http(s):// "
                        "or runs:/ URI")
    if parts.scheme:
        try:
            local = mlflow.artifacts.download_artifacts(artifact_uri=data, dst_path=str(folder))
        except (MlflowException, OSError) as error:
            reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise UserError(f"{data}: cannot download it: {reason}") from None
        return Path(local)
    return Path(data)
