"""A step's MLflow run and its record: tags, params and metrics kept until the step writes them.

A step run sends its record in as few requests as it can (a server shared by many pipelines
counts requests): what the step logs waits in a ``StepRecord`` and goes in one request when the
step asks (``flush``), when it fails, or when it ends. A step started by `main` also ends with
its cache key and output (grocery/cache.py) in that last request, so `main` need not write them.

The run is read once and written by its id; it is not made MLflow's active run, which
``mlflow.start_run`` would read twice and mark RUNNING (it already is) on the way: three requests
a step. So the steps log through the run in hand, never through MLflow's fluent ``mlflow.log_*``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

from mlflow.entities import Metric, Run, RunStatus
from mlflow.environment_variables import (
    MLFLOW_EXPERIMENT_ID,
    MLFLOW_EXPERIMENT_NAME,
    MLFLOW_RUN_ID,
)
from mlflow.tracking import MlflowClient
from mlflow.tracking.context.registry import resolve_tags

from grocery.cache import CACHE_KEY_ENV, entry_tags
from grocery.config import Product
from grocery.errors import UserError, refusal
from grocery.names import TAG_ERROR, TAG_PRODUCT, TAG_STEP
from grocery.tracking import (
    DEFAULT_EXPERIMENT_ID,
    as_metrics,
    configure_mlflow,
    log_record,
    provenance_tags,
)


class StepRecord:
    """A step's run (``run``) and what it has logged, written (``flush``) or not yet."""

    def __init__(self, run: Run, tags: dict[str, str]) -> None:
        self.run = run
        # Everything logged, written or waiting (the run's own params and tags included).
        self.params = dict(run.data.params)
        self.tags = {**run.data.tags, **tags}
        # What waits for the next request.
        self._metrics: list[Metric] = []
        self._params: dict[str, str] = {}
        self._tags = dict(tags)

    @property
    def run_id(self) -> str:
        return self.run.info.run_id

    def log(self, metrics: dict[str, float] | list[Metric] | None = None,
            params: dict[str, object] | None = None,
            tags: dict[str, str] | None = None) -> None:
        """Keep ``metrics`` (a dict, or Metric objects linked to a model and a dataset),
        ``params`` and ``tags`` for the next request."""
        params = {key: str(value) for key, value in (params or {}).items()}
        tags = {key: str(value) for key, value in (tags or {}).items()}
        self._metrics += as_metrics(metrics)
        self._params.update(params)
        self._tags.update(tags)
        self.params.update(params)
        self.tags.update(tags)

    def flush(self) -> None:
        """Write what waits, in one request (none when nothing does)."""
        if self._metrics or self._params or self._tags:
            log_record(self.run_id, self._metrics, self._params, self._tags)
        self._metrics, self._params, self._tags = [], {}, {}


def open_run(client: MlflowClient) -> Run:
    """The run `mlflow run` made for this step (``$MLFLOW_RUN_ID``), read once. A step started by
    hand gets a new run, with MLflow's source tags, where ``mlflow.start_run`` would put it: in
    ``$MLFLOW_EXPERIMENT_ID``, else the experiment named ``$MLFLOW_EXPERIMENT_NAME``, else the
    Default experiment."""
    run_id = MLFLOW_RUN_ID.get()
    if run_id:
        return client.get_run(run_id)
    experiment_id = MLFLOW_EXPERIMENT_ID.get()
    if not experiment_id and MLFLOW_EXPERIMENT_NAME.get():
        experiment = client.get_experiment_by_name(MLFLOW_EXPERIMENT_NAME.get())
        experiment_id = experiment.experiment_id if experiment else None
    return client.create_run(experiment_id or DEFAULT_EXPERIMENT_ID, tags=resolve_tags())


@contextlib.contextmanager
def step_run(step: str, product: Product | None = None,
             extra_tags: dict[str, str] | None = None) -> Iterator[StepRecord]:
    """The step's MLflow run (the one ``mlflow run`` created for it, or a new one) and its
    record, which starts with the step, product and ``extra_tags``; the run ends FINISHED when
    the block does, FAILED when it raises (as ``mlflow.start_run`` ends it).

    A ``UserError`` inside, or the tracking server refusing a request (403), ends the run FAILED
    with the reason as a tag, then propagates as a UserError (the step turns it into one line
    and a non-zero exit). A step given a cache key by `main` (``$GROCERY_CACHE_KEY``) that ends
    well records the key and its output with the rest.
    """
    configure_mlflow()
    tags = {TAG_STEP: step, **provenance_tags(step), **(extra_tags or {})}
    if product is not None:
        tags[TAG_PRODUCT] = product.name
    client = MlflowClient()
    run = open_run(client)
    if run.info.experiment_id == DEFAULT_EXPERIMENT_ID:
        name = product.experiment if product else "<product experiment>"
        print(f"note: this {step} run is in the Default experiment; pass --experiment-name "
              f"{name} to keep it with its product", file=sys.stderr)
    record = StepRecord(run, tags)
    # FAILED unless everything, the step's last request included, went through: our bug, an
    # interruption or the server lost end the run FAILED all the same.
    status = RunStatus.FAILED
    try:
        try:
            yield record
        except BaseException as error:
            reason = (error if isinstance(error, UserError) else
                      refusal(error) if isinstance(error, Exception) else None)
            if reason is None:
                raise
            record.log(tags={TAG_ERROR: str(reason)})
            record.flush()
            raise reason from None
        key = os.environ.get(CACHE_KEY_ENV)
        if key:
            record.log(tags=entry_tags(step, record.params, record.tags, key))
        record.flush()
        status = RunStatus.FINISHED
    finally:
        client.set_terminated(record.run_id, RunStatus.to_string(status))
