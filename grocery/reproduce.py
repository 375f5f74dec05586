"""Rebuild a registered model version from its recorded lineage and compare the results."""

from __future__ import annotations

import json
import math
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mlflow.entities.model_registry import ModelVersion
from mlflow.tracking import MlflowClient

from grocery.errors import UserError
from grocery.names import (
    TAG_DATA_DIGEST,
    TAG_GIT_DIRTY,
    TAG_GIT_REPO,
    TAG_HYPERPARAMETERS,
    TAG_PREPARE_RUN,
    TAG_TRAIN_RUN,
)
from grocery.tracking import TAG_GIT_COMMIT

METRICS = ("mae", "mse", "rmse", "r2")
TOLERANCE = 1e-9
PREPARE_PARAMS = ("product", "rows", "end_date", "seed", "validation_fraction", "split",
                  "data", "target", "date_column", "department")


def logged_value(param: str) -> str:
    """A parameter as it was passed: `mlflow run` logs values shell-quoted (``''`` for empty)."""
    words = shlex.split(param) if param else []
    return words[0] if len(words) == 1 else param


@dataclass(frozen=True)
class Lineage:
    """What a version was built from: code, data parameters and model parameters."""

    repository: str
    commit: str
    dirty: str
    prepare_params: dict[str, str]
    train_params: dict[str, str]
    data_digest: str
    metrics: dict[str, float]


def read_lineage(client: MlflowClient, version: ModelVersion) -> Lineage:
    """The lineage recorded on a version's train and prepare runs."""
    train = client.get_run(version.tags[TAG_TRAIN_RUN])
    prepare = client.get_run(version.tags[TAG_PREPARE_RUN])
    repository = train.data.tags.get(TAG_GIT_REPO)
    commit = train.data.tags.get(TAG_GIT_COMMIT)
    if not repository or not commit:
        raise UserError(f"version {version.name}/{version.version} records no git repository "
                        "and commit: it was not trained from a git checkout")
    hyperparameters = json.loads(train.data.tags.get(TAG_HYPERPARAMETERS, "{}"))
    return Lineage(
        repository=repository,
        commit=commit,
        dirty=train.data.tags.get(TAG_GIT_DIRTY, "unknown"),
        prepare_params={k: v for k in PREPARE_PARAMS
                        if (v := logged_value(prepare.data.params.get(k, "")))},
        train_params={"model": train.data.params["model"],
                      **{k: str(v) for k, v in hyperparameters.items()}},
        data_digest=prepare.data.tags[TAG_DATA_DIGEST],
        metrics={k: train.data.metrics[k] for k in METRICS},
    )


@contextmanager
def checkout(repository: str, commit: str) -> Iterator[Path]:
    """A temporary clone of ``repository`` at ``commit``; the source repository is only read."""
    folder = Path(tempfile.mkdtemp(prefix="grocery-reproduce-"))
    try:
        for args in (["clone", "--quiet", "--no-checkout", repository, str(folder)],
                     ["-C", str(folder), "checkout", "--quiet", commit]):
            done = subprocess.run(["git", *args], capture_output=True, text=True)
            if done.returncode != 0:
                raise UserError(f"cannot check out {commit} from {repository}: "
                                f"{done.stderr.strip().splitlines()[-1]}")
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def compare(original: Lineage, data_digest: str, metrics: dict[str, float]) -> list[tuple]:
    """Rows of (what, original, rebuilt, equal) for the data digest and each metric."""
    rows = [("data digest", original.data_digest, data_digest, original.data_digest == data_digest)]
    for name in METRICS:
        before, after = original.metrics[name], metrics.get(name, math.nan)
        rows.append((name, repr(before), repr(after), abs(before - after) <= TOLERANCE))
    return rows


def format_table(rows: list[tuple]) -> str:
    header = ("what", "original", "rebuilt", "equal")
    cells = [header, *[(a, b, c, "yes" if d else "NO") for a, b, c, d in rows]]
    widths = [max(len(str(row[i])) for row in cells) for i in range(4)]
    return "\n".join("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
                     for row in cells)
