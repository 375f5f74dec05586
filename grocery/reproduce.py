"""Rebuild a registered model version from its lineage chain and compare the results.

The chain comes from ``grocery.lineage.read_chain``; here it becomes the parameters to replay,
the trusted repository to clone the recorded commit from (``grocery.trusted_clone``), and a table
of what matched.
"""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import mlflow
from mlflow.entities import Run
from mlflow.exceptions import ExecutionException
from mlflow.tracking import MlflowClient

from grocery.console import text_table
from grocery.errors import UserError
from grocery.lineage import UNKNOWN, Chain
from grocery.names import (
    PREPARE,
    TAG_DATA_DIGEST,
    TAG_GIT_DIRTY,
    TAG_HYPERPARAMETERS,
    TAG_REPRODUCE_COMMIT,
    TAG_REPRODUCE_MODEL,
    TAG_REPRODUCE_RUN,
    TAG_SERIES_MODEL,
    TRAIN,
    reproduce_experiment,
    reproduce_run_name,
)
from grocery.parameters import OWN_DATA_PARAMS, PREPARE_PARAMS, PRODUCT_PARAM
from grocery.prepared import prepared_uri
from grocery.tracking import scratch_experiment
from grocery.trusted_clone import checkout_locations, configured_locations, trusted_source

METRICS = ("mae", "mse", "rmse", "r2")
TOLERANCE = 1e-9
# The prepare run's parameters a reproduction passes again.
REPLAYED_PARAMS = (PRODUCT_PARAM, *PREPARE_PARAMS, *OWN_DATA_PARAMS)


def logged_value(param: str) -> str:
    """A parameter as it was passed: `mlflow run` logs values shell-quoted (``''`` for empty)."""
    words = shlex.split(param) if param else []
    return words[0] if len(words) == 1 else param


def check_reproducible(chain: Chain) -> None:
    """Refuse a version whose chain lacks what a rebuild needs: its runs, repository, commit,
    its model and hyperparameters."""
    name = f"{chain.version.name}/{chain.version.version}"
    for step, link in ((TRAIN, chain.train), (PREPARE, chain.prepare)):
        if not link.found:
            raise UserError(f"version {name} has no {step} run in this tracking store "
                            f"(recorded: {link.run_id}); it cannot be rebuilt")
    if UNKNOWN in (chain.git.repository, chain.git.commit):
        raise UserError(f"version {name} records no git repository and commit: it was not "
                        "trained from a git checkout")
    try:
        prepare_parameters(chain), train_parameters(chain)
    except (KeyError, ValueError, AttributeError):
        raise UserError(f"version {name}'s runs do not record readable parameters (prepare's, "
                        f"train's model or its {TAG_HYPERPARAMETERS} tag); it cannot be "
                        "rebuilt") from None


def source_to_clone(chain: Chain, allowed_repositories: str) -> str:
    """Where to clone the version's commit from: the recorded repository, when it is this
    checkout's folder or remote or one of ``allowed_repositories`` (comma-separated)."""
    allowed = checkout_locations() + configured_locations(allowed_repositories)
    try:
        return trusted_source(chain.git.repository, chain.git.commit, allowed)
    except UserError as error:
        raise UserError(f"version {chain.version.name}/{chain.version.version}: {error}") from None


def prepare_parameters(chain: Chain) -> dict[str, str]:
    """The prepare run's parameters as they were passed (empty ones left to their defaults)."""
    return {key: value for key in REPLAYED_PARAMS
            if (value := logged_value(chain.prepare.params.get(key, "")))}


def train_parameters(chain: Chain) -> dict[str, str]:
    """The model, how it modelled the series (runs that record it) and its hyperparameters as
    the train run resolved them."""
    hyperparameters = json.loads(chain.train.tags.get(TAG_HYPERPARAMETERS, "{}"))
    series_model = chain.train.tags.get(TAG_SERIES_MODEL)
    return {"model": chain.train.params["model"],
            **({"series_model": series_model} if series_model else {}),
            **{key: str(value) for key, value in hyperparameters.items()}}


@contextmanager
def reproduction_run(client: MlflowClient, chain: Chain, launcher_id: str | None) -> Iterator[Run]:
    """The parent run of a rebuild, in the scratch experiment ``reproduce-<model name>``, named
    on the ``reproduce`` entry point's own run (``launcher_id``) when there is one."""
    version = chain.version
    experiment_id = scratch_experiment(client, reproduce_experiment(version.name))
    with mlflow.start_run(experiment_id=experiment_id,
                          run_name=reproduce_run_name(version.name, version.version)) as parent:
        if launcher_id:
            client.set_tag(launcher_id, TAG_REPRODUCE_RUN, parent.info.run_id)
        mlflow.set_tags({TAG_REPRODUCE_MODEL: f"{version.name}/{version.version}",
                         TAG_REPRODUCE_COMMIT: chain.git.commit})
        yield parent


def rebuild(client: MlflowClient, project: Path, chain: Chain, parent: Run,
            env_manager: str) -> tuple[str, dict[str, float]]:
    """Run prepare and train of ``project`` with the chain's parameters beside ``parent``;
    return the new data digest and the new train metrics."""
    def run(step: str, parameters: dict[str, str]) -> str:
        try:
            return mlflow.run(str(project), step, parameters=parameters,
                              experiment_id=parent.info.experiment_id,
                              env_manager=env_manager).run_id
        except ExecutionException as error:  # its own error is above, in the step's output
            raise UserError(f"the rebuild's {step} failed at commit {chain.git.commit}: "
                            f"{error}") from None

    prepare = run(PREPARE, prepare_parameters(chain))
    train = run(TRAIN, {"data": prepared_uri(prepare), **train_parameters(chain)})
    return (client.get_run(prepare).data.tags[TAG_DATA_DIGEST],
            client.get_run(train).data.metrics)


def compare(chain: Chain, data_digest: str, metrics: dict[str, float]) -> list[tuple]:
    """Rows of (what, original, rebuilt, equal) for the data digest and each metric."""
    rows = [("data digest", chain.data_digest, data_digest, chain.data_digest == data_digest)]
    for name in METRICS:
        before, after = chain.train.metrics.get(name, math.nan), metrics.get(name, math.nan)
        rows.append((name, repr(before), repr(after), abs(before - after) <= TOLERANCE))
    return rows


def comparison_table(rows: list[tuple]) -> str:
    """The rows of ``compare`` for a person, ``yes`` or ``NO`` in the last column."""
    return text_table(("what", "original", "rebuilt", "equal"),
                      [(what, before, after, "yes" if equal else "NO")
                       for what, before, after, equal in rows])


def mismatch_message(chain: Chain) -> str:
    """Why a rebuild differs, as far as the chain tells: a dirty work tree lacks its edits."""
    message = f"{chain.version.name}/{chain.version.version} does not reproduce"
    if chain.git.dirty == "true":
        message += (f"; the version was trained from a dirty work tree "
                    f"({TAG_GIT_DIRTY}=true), so commit {chain.git.commit} lacks its edits")
    return message
