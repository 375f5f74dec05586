"""MLflow tracking for the steps: product experiments, step runs, and where to see them."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
import warnings
from pathlib import Path

import mlflow
from mlflow.entities import Experiment, LifecycleStage, Metric, Param, Run, RunTag
from mlflow.exceptions import MlflowException
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository
from mlflow.tracking import MlflowClient

from grocery.config import Config, Product
from grocery.errors import UserError
from grocery.names import (
    TAG_CODE_DIGEST,
    TAG_ENV,
    TAG_ERROR,
    TAG_GIT_DIRTY,
    TAG_GIT_REPO,
    TAG_SCRATCH,
)
from grocery.provenance import code_digest, git_state
from grocery.uris import public_uri, scrub

# MLflow registers its local artifact source twice and warns about the tie on every dataset;
# the integer-column hint is expected (the tutorial's flags are integers and never missing).
warnings.filterwarnings("ignore", message="The specified dataset source can be interpreted")
warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer column")

DEFAULT_EXPERIMENT_ID = "0"
# The env managers nested steps can use; inside Docker or Kubernetes the image is the env.
NESTED_ENV_MANAGERS = ("uv", "virtualenv", "conda")
LOCAL = "local"


def artifact_location(experiment: str) -> str | None:
    """Where a new experiment keeps its artifacts: beside the database of a SQLite store.

    MLflow's default is ``./mlruns`` of whatever folder the creating process runs in, and steps
    run in the project folder, so every SQLite store would share the project's ``mlruns`` (and
    experiment ids, which restart at 1 in each store). A server decides for itself (None).
    """
    uri = mlflow.get_tracking_uri()
    if not uri.startswith("sqlite:///"):
        return None
    database = Path(uri.removeprefix("sqlite:///")).resolve()
    return (database.parent / "mlruns" / experiment).as_uri()


def ensure_experiment(client: MlflowClient, catalog: Config, product: Product) -> str:
    """The id of the product's experiment, created with its tags on first use.

    Found again by name; tags are (re)applied so an experiment made by hand gets them too.
    Two pipelines creating it at once both end up with the same id.
    """
    experiment = client.get_experiment_by_name(product.experiment)
    if experiment is None:
        try:
            return client.create_experiment(
                product.experiment, artifact_location=artifact_location(product.experiment),
                tags=catalog.experiment_tags(product))
        except MlflowException:
            # Another pipeline may have created it since we looked: use theirs.
            experiment = client.get_experiment_by_name(product.experiment)
            if experiment is None:
                raise
    return adopt_experiment(client, catalog, product, experiment)


def adopt_experiment(client: MlflowClient, catalog: Config, product: Product,
                     experiment: Experiment) -> str:
    """The id of an existing ``experiment`` for the product's runs, given the product's tags it
    lacks; a UserError if it is deleted."""
    if experiment.lifecycle_stage == LifecycleStage.DELETED:
        raise UserError(
            f"experiment {experiment.name!r} is deleted; restore it with "
            f"`mlflow experiments restore --experiment-id {experiment.experiment_id}`"
        )
    for key, value in catalog.experiment_tags(product).items():
        if experiment.tags.get(key) != value:
            client.set_experiment_tag(experiment.experiment_id, key, value)
    return experiment.experiment_id


def run_location(run: Run) -> str:
    """Where a person finds the run: its UI address on a server, else its experiment and store."""
    uri = public_uri(mlflow.get_tracking_uri())
    experiment, run_id = run.info.experiment_id, run.info.run_id
    if uri.startswith(("http://", "https://")):
        return f"{uri.rstrip('/')}/#/experiments/{experiment}/runs/{run_id}"
    return f"experiment {experiment} in {uri}"


def log_folder(run: Run, folder: str | Path, artifact_path: str) -> None:
    """Upload ``folder``'s files under the run's ``artifact_path``, through the artifact store
    of the ``run`` in hand (MLflow's fluent logging reads the run back from the server first)."""
    get_artifact_repository(run.info.artifact_uri).log_artifacts(str(folder), artifact_path)


def log_file(run: Run, path: str | Path, artifact_path: str | None = None) -> None:
    """Upload the file at ``path`` under the run's ``artifact_path``, as ``log_folder`` does."""
    get_artifact_repository(run.info.artifact_uri).log_artifact(str(path), artifact_path)


def log_json(run: Run, record: dict, name: str) -> None:
    """Upload ``record`` as the run's top-level JSON file ``name`` (as ``mlflow.log_dict``
    writes it)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_text(json.dumps(record, indent=2, default=str))
        log_file(run, path)


def run_artifact_uri(run: Run, path: str) -> str:
    """The artifact store's own URI of ``path`` among the ``run``'s artifacts."""
    return f"{run.info.artifact_uri.rstrip('/')}/{path}"


def artifact_uri_of(client: MlflowClient, uri: str) -> str:
    """A ``runs:/<run id>/<path>`` URI as the artifact store's own URI (any other URI as it
    is): a download from it reads only the run's files, where MLflow's ``runs:/`` download
    also reads the run back and searches the run's logged models."""
    if not uri.startswith("runs:/"):
        return uri
    run_id, _, path = uri.removeprefix("runs:/").partition("/")
    return run_artifact_uri(client.get_run(run_id), path)


def as_metrics(metrics: dict[str, float] | list[Metric] | None) -> list[Metric]:
    """``metrics`` as Metric objects: a dict's taken now, at step 0; Metric objects (linked to a
    logged model and a dataset) as they are."""
    if isinstance(metrics, dict):
        now = int(time.time() * 1000)
        return [Metric(key, float(value), now, 0) for key, value in metrics.items()]
    return list(metrics or [])


def log_record(run_id: str, metrics: dict[str, float] | list[Metric] | None = None,
               params: dict[str, object] | None = None,
               tags: dict[str, str] | None = None) -> None:
    """A run's metrics, params and tags in one request (a server shared by many pipelines
    counts requests); ``metrics`` as a dict, or as Metric objects to link them to a logged
    model and a dataset."""
    MlflowClient().log_batch(run_id, metrics=as_metrics(metrics),
                             params=[Param(k, str(v)) for k, v in (params or {}).items()],
                             tags=[RunTag(k, str(v)) for k, v in (tags or {}).items()])


def provenance_tags(step: str) -> dict[str, str]:
    """The code digest and git state every run records (MLflow adds the commit itself)."""
    git = git_state()
    tags = {TAG_CODE_DIGEST: code_digest(step)}
    if git.commit is not None:
        tags[TAG_GIT_DIRTY] = str(git.dirty).lower()
        tags[TAG_GIT_REPO] = public_uri(git.repository or "")
    return tags


MLFLOW_DEFAULTS = {
    # A tracking server that refuses connections for a while should not fail a step: MLflow
    # (urllib3) retries each request after 0, 2, 4, 8 and 16 s (backoff factor x 2^(n-1), plus
    # up to 0.5 s jitter each): about 30 s of outage ridden out. A server gone for good costs a
    # step two such waits (its request, then ending its run), `main` none after the first
    # loss, and the outer `mlflow run` one (the Makefile sets the same), so the command
    # returns about a minute after losing the server.
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "5",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0.5",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
    # MLflow prints each run's address as the tracking URI was given, credentials included;
    # the steps print their own progress line with the address made safe instead.
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
    # Before its first download from a server's artifact store, MLflow asks the server whether
    # it hands out presigned URLs for multipart downloads of large files; the steps download
    # prepared tables and models of a few MB, proxied through the server, without asking.
    "MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD": "false",
}


# Set to true for MLflow's own INFO lines (the commands it runs, the tables it creates, the
# versions it registers) in the processes the project starts; by default they are WARNING.
VERBOSE_ENV = "GROCERY_VERBOSE"
QUIET_LOGGERS = ("mlflow", "alembic")  # alembic: a new SQLite store's migrations


def configure_mlflow() -> None:
    """MLflow settings for this process and the steps it starts; the user's own settings win.

    Unless ``GROCERY_VERBOSE=true``, MLflow logs only warnings here and in the steps, so the
    console shows the project's own line per product and step."""
    for name, value in MLFLOW_DEFAULTS.items():
        os.environ.setdefault(name, value)
    if os.environ.get(VERBOSE_ENV, "").lower() != "true":
        level = os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(level.upper())


def env_manager_of_tag(tag: str | None) -> str:
    """The env manager for nested steps, from the ``mlflow.project.env`` tag `mlflow run` set.

    `local` leaves no tag; inside a Docker (or Kubernetes) run the image is the environment, so
    the steps run locally in it.
    """
    return tag if tag in NESTED_ENV_MANAGERS else LOCAL


def env_manager_of(run: Run | None) -> str:
    """The environment manager `mlflow run` used for ``run``, to pass on to nested steps."""
    return LOCAL if run is None else env_manager_of_tag(run.data.tags.get(TAG_ENV))


def scratch_experiment(client: MlflowClient, name: str) -> str:
    """An experiment outside the product catalog, for work that is not a product's (found by
    name, created on first use)."""
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    try:
        return client.create_experiment(name, artifact_location=artifact_location(name),
                                        tags={TAG_SCRATCH: "true"})
    except MlflowException:
        return client.get_experiment_by_name(name).experiment_id


def fail_run(client: MlflowClient, run_id: str, reason: str) -> None:
    """End a run FAILED with ``reason`` (scrubbed of credentials) as a tag."""
    client.set_tag(run_id, TAG_ERROR, scrub(reason))
    client.set_terminated(run_id, status="FAILED")

