"""The step cache of `main`: a step is skipped when a finished run already did the same work.

A run becomes a cache entry only after it FINISHED and `main` tagged it with its key, so a
concurrent pipeline never reuses a half-written run. The key covers the entry point, every
resolved parameter, the digest of the code the step runs, and the content digest of its input.
"""

from __future__ import annotations

import hashlib
import json

import mlflow
from mlflow.entities import Run, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from grocery.artifacts import DATA_DIR, META_FILE, TRAIN_FILE, VALIDATION_FILE
from grocery.names import TAG_DATA_DIGEST, TAG_MODEL_URI
from grocery.provenance import code_digest

TAG_CACHE_KEY = "grocery.cache.key"
# What a cached step produced, as the next step's input digest: prepare's data digest, train's
# own key (the same data, code and parameters give the same model), register's model version.
TAG_CACHE_OUTPUT = "grocery.cache.output"
_SEARCH_LIMIT = 20


def cache_key(step: str, params: dict[str, object], input_digest: str | None) -> str:
    """The digest that identifies one step's work."""
    payload = {
        "entry_point": step,
        "params": {name: str(value) for name, value in sorted(params.items())},
        "code": code_digest(step),
        "input": input_digest,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


def step_output(step: str, run: Run, key: str) -> str:
    """The digest of what ``run`` produced, which keys the step after it."""
    tags = run.data.tags
    if step == "prepare":
        return tags[TAG_DATA_DIGEST]
    if step == "register":
        return f"{tags['registered_model']}/{tags['model_version']}"
    return key


def _outputs_exist(client: MlflowClient, step: str, run: Run) -> bool:
    """Whether a cached run's outputs can still be read (artifacts, model, model version)."""
    tags = run.data.tags
    try:
        if step == "prepare":
            names = {f.path.rsplit("/", 1)[-1] for f in client.list_artifacts(run.info.run_id,
                                                                                DATA_DIR)}
            return {TRAIN_FILE, VALIDATION_FILE, META_FILE} <= names
        if step == "train":
            return bool(mlflow.artifacts.list_artifacts(artifact_uri=tags[TAG_MODEL_URI]))
        version = client.get_model_version(tags["registered_model"], tags["model_version"])
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
    client.log_batch(run_id, tags=[RunTag(TAG_CACHE_OUTPUT, step_output(step, run, key)),
                                   RunTag(TAG_CACHE_KEY, key)])
    return client.get_run(run_id)
