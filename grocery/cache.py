"""The step cache of `main`: a step is skipped when a finished run already did the same work.

`main` hands each step it starts the key of its work; the step writes the key, with the digest
of what it produced, in its last record before its run ends FINISHED, and only FINISHED runs are
looked up: a concurrent pipeline never reuses a half-written run. The key covers the entry
point, every resolved parameter, the digest of the code the step runs, and the content digest of
its input.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import mlflow
from mlflow.entities import Run
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from grocery.config import PROJECT_DIR
from grocery.dataset import combined_digest
from grocery.names import (
    PREPARE,
    REGISTER,
    TAG_CACHE_KEY,
    TAG_CACHE_OUTPUT,
    TAG_DATA_DIGEST,
    TAG_MODEL_URI,
    TAG_MODEL_VERSION,
    TAG_REGISTERED_MODEL,
    TRAIN,
)
from grocery.prepared import DATA_DIR, META_FILE, TRAIN_FILE, VALIDATION_FILE
from grocery.provenance import code_digest

_SEARCH_LIMIT = 20
# How `main` hands a step the cache key of its work: in the environment `mlflow.run` starts the
# step's process with (grocery/orchestration.py); the step writes it when it ends well.
CACHE_KEY_ENV = "GROCERY_CACHE_KEY"


def cache_key(step: str, params: dict[str, object], input_digest: str | None,
              root: Path = PROJECT_DIR) -> str:
    """The digest that identifies one step's work (the step's code as it is under ``root``)."""
    payload = {
        "entry_point": step,
        "params": {name: str(value) for name, value in sorted(params.items())},
        "code": code_digest(step, root),
        "input": input_digest,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


# prepare's parameters that decide what train does with the same rows.
TASK_PARAMS = ("split", "horizon", "folds", "known_ahead")


def step_output(step: str, params: dict[str, str], tags: dict[str, str], key: str) -> str:
    """The digest of what a step's run produced (from its ``params`` and ``tags``), which keys
    the step after it."""
    if step == PREPARE:
        # The same rows with another forecast task (which columns are known ahead, how many
        # folds of which horizon) train another model.
        task = {name: params.get(name, "") for name in TASK_PARAMS}
        return combined_digest(tags[TAG_DATA_DIGEST], json.dumps(task, sort_keys=True))
    if step == REGISTER:
        return f"{tags[TAG_REGISTERED_MODEL]}/{tags[TAG_MODEL_VERSION]}"
    return key


def entry_tags(step: str, params: dict[str, str], tags: dict[str, str], key: str) -> dict:
    """The tags that make a finished step run a cache entry: its key and its output, written
    in one request (with the step's last record), so no run is keyed without its output."""
    return {TAG_CACHE_OUTPUT: step_output(step, params, tags, key), TAG_CACHE_KEY: key}


def _outputs_exist(client: MlflowClient, step: str, run: Run) -> bool:
    """Whether a cached run's outputs can still be read (artifacts, model, model version)."""
    tags = run.data.tags
    try:
        if step == PREPARE:
            names = {f.path.rsplit("/", 1)[-1] for f in client.list_artifacts(run.info.run_id,
                                                                                DATA_DIR)}
            return {TRAIN_FILE, VALIDATION_FILE, META_FILE} <= names
        if step == TRAIN:
            return bool(mlflow.artifacts.list_artifacts(artifact_uri=tags[TAG_MODEL_URI]))
        version = client.get_model_version(tags[TAG_REGISTERED_MODEL], tags[TAG_MODEL_VERSION])
        return version is not None
    except (MlflowException, KeyError, OSError):
        return False


def find_cached(client: MlflowClient, experiment_id: str, step: str, key: str) -> Run | None:
    """The newest FINISHED, undeleted run with ``key`` whose outputs still exist, or None."""
    runs = client.search_runs(
        [experiment_id],
        filter_string=f"tags.`{TAG_CACHE_KEY}` = '{key}' and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
        max_results=_SEARCH_LIMIT,
    )
    return next((run for run in runs if _outputs_exist(client, step, run)), None)
