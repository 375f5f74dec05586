"""The step cache of `main`: a step is skipped when a finished run already did the same work.

A run becomes a cache entry only after it FINISHED and `main` tagged it with its key, so a
concurrent pipeline never reuses a half-written run. The key covers the entry point, every
resolved parameter, the digest of the code the step runs, and the content digest of its input.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import mlflow
from mlflow.entities import Metric, Param, Run, RunData, RunTag
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


def step_output(step: str, run: Run, key: str) -> str:
    """The digest of what ``run`` produced, which keys the step after it."""
    tags = run.data.tags
    if step == PREPARE:
        # The same rows with another forecast task (which columns are known ahead, how many
        # folds of which horizon) train another model.
        task = {name: run.data.params.get(name, "") for name in TASK_PARAMS}
        return combined_digest(tags[TAG_DATA_DIGEST], json.dumps(task, sort_keys=True))
    if step == REGISTER:
        return f"{tags[TAG_REGISTERED_MODEL]}/{tags[TAG_MODEL_VERSION]}"
    return key


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


def remember(client: MlflowClient, step: str, run_id: str, key: str) -> Run:
    """Make a finished run a cache entry; return it with its tags.

    Output and key are written in one request, so no run is ever keyed without its output.
    """
    run = client.get_run(run_id)
    tags = {TAG_CACHE_OUTPUT: step_output(step, run, key), TAG_CACHE_KEY: key}
    client.log_batch(run_id, tags=[RunTag(k, v) for k, v in tags.items()])
    # The run as the store now holds it, without asking the store again.
    data = run.data
    return Run(run.info, RunData(
        metrics=[Metric(k, v, 0, 0) for k, v in data.metrics.items()],
        params=[Param(k, v) for k, v in data.params.items()],
        tags=[RunTag(k, v) for k, v in {**data.tags, **tags}.items()]), run.inputs, run.outputs)
