"""How `main` runs products: each step its own `mlflow.run`, nested under a parent run per product.

A product's pipeline is prepare -> train -> register; a step is reused when a finished run did
the same work (grocery/cache.py). One product or many run the same way: a pool of
``max_parallel`` worker threads, each running one product's pipeline in this process. MLflow
keeps the active run per thread, so each worker's steps nest under that worker's parent run.
"""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import mlflow
from mlflow.entities import Run, RunStatus
from mlflow.projects import _run as start_project_run
from mlflow.tracking import MlflowClient

from grocery.cache import CACHE_KEY_ENV, cache_key, find_cached
from grocery.config import PROJECT_DIR, Product
from grocery.console import text_table
from grocery.errors import lost_connection, print_traceback
from grocery.experiments import Route
from grocery.liveness import process_gone, process_identity
from grocery.names import (
    PIPELINE,
    PREPARE,
    REGISTER,
    TAG_ALIAS,
    TAG_CACHE_OUTPUT,
    TAG_EXPERIMENT_CHOSEN,
    TAG_EXPERIMENT_REASON,
    TAG_MODEL_VERSION,
    TAG_PARENT_RUN,
    TAG_PROCESS,
    TAG_PRODUCT,
    TAG_REGISTERED_MODEL,
    TAG_STEP,
    TRAIN,
    pipeline_tag,
    run_name,
    step_cached_tag,
    step_run_tag,
)
from grocery.parameters import PRODUCT_PARAM, PipelineSettings
from grocery.prepared import prepared_uri
from grocery.tracking import fail_run, log_record, provenance_tags, run_location
from grocery.uris import tracking_uri_for_humans

FINISHED = RunStatus.to_string(RunStatus.FINISHED)
FAILED = RunStatus.to_string(RunStatus.FAILED)
RUNNING = RunStatus.to_string(RunStatus.RUNNING)
STEP_LOST_SERVER = 3  # a step's exit status when it lost the tracking server (grocery/errors.py)
LOST = "LOST"  # a product's status when the tracking server went away mid-pipeline


@dataclass
class ProductResult:
    """What one product's pipeline produced, read back from its parent run for the summary."""

    product: Product
    parent_run_id: str | None
    status: str = FAILED
    metrics: dict[str, float] = field(default_factory=dict)
    model_version: str | None = None
    alias: str | None = None
    experiment: str | None = None  # where the experiment rule sent it
    train_run_id: str | None = None  # the train run (ran or reused) behind its model


class StepFailed(Exception):
    """A step's run ended other than FINISHED."""


class ServerLost(ConnectionError):
    """A step lost the tracking server (and said so in its own line): the fan-out stops."""


def stop_retrying() -> None:
    """Once the tracking server is known to be gone, every further request of this process fails
    at once instead of waiting out MLflow's whole retry budget (grocery/tracking.py) each."""
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"


def reported_by_step(error: BaseException) -> bool:
    """Whether the lost server behind ``error`` was a step's, which printed its own line."""
    seen: BaseException | None = error
    while seen is not None and not isinstance(seen, ServerLost):
        seen = seen.__cause__ or seen.__context__
    return seen is not None


# `mlflow.run` starts a step with a copy of this process's environment, which the worker threads
# share: one step is started at a time, each with its own cache key there.
_STARTING = threading.Lock()


def run_step(step: str, parameters: dict[str, str], product: Product, experiment_id: str,
             env_manager: str, key: str) -> str:
    """Run one entry point of this project as a child of this thread's active run; its run id.

    The step is handed ``key``, which it records with its output if it ends well
    (grocery/step_run.py). Started as ``mlflow.run`` starts it and waited for here: after the
    step exits, ``mlflow.run`` asks the server for its run's status with the full retry budget
    even when the step has just reported the server lost (exit 3). A step that exits 0 ended
    its run itself; a failed step's run still RUNNING (the step killed, or dead before its run
    started) is ended FAILED here, as ``mlflow.run`` would.
    """
    with _STARTING:
        os.environ[CACHE_KEY_ENV] = key
        try:
            submitted = start_project_run(
                uri=str(PROJECT_DIR), experiment_id=experiment_id, entry_point=step,
                version=None, parameters=parameters, docker_args=None, backend_name="local",
                backend_config={}, storage_dir=None, env_manager=env_manager, synchronous=True,
                run_name=run_name(product.name, step), build_image=False, docker_auth=None)
        finally:
            del os.environ[CACHE_KEY_ENV]
    status = submitted.command_proc.wait()
    if status == STEP_LOST_SERVER:
        stop_retrying()  # before ending the parent run on the way out
        raise ServerLost(f"{product.name} {step} lost the tracking server")
    if status != 0:
        # A step that exits 0 has ended its run itself (grocery/step_run.py); one that
        # failed may not have (killed, or dead before its run started).
        client = MlflowClient()
        if client.get_run(submitted.run_id).info.status == RUNNING:
            client.set_terminated(submitted.run_id, FAILED)
        raise StepFailed(f"{product.name} {step} failed (exit status {status})")
    return submitted.run_id


def run_steps(product: Product, route: Route, settings: PipelineSettings,
              record: dict[str, str]) -> dict[str, float]:
    """prepare -> train -> register under this thread's parent run, each step reused from the
    cache when a finished run did the same work; what each did goes into ``record`` (the
    parent's tags); the train run's metrics are returned."""
    client = MlflowClient()

    def step(name: str, params: dict[str, str], key_params: dict, upstream: str | None,
             look: bool = True) -> Run:
        key = cache_key(name, key_params, upstream)
        run = (find_cached(client, route.experiment_id, name, key)
               if look and settings.use_cache and not route.new else None)
        cached = run is not None
        if cached:  # a step that runs prints its own line
            print(f"{product.name} {name}: run {run.info.run_id} reused "
                  f"({run_location(run)})", flush=True)
        else:
            run = client.get_run(run_step(name, params, product, route.experiment_id,
                                          settings.env_manager, key))
        record.update({step_run_tag(name): run.info.run_id,
                       step_cached_tag(name): str(cached).lower()})
        return run

    prepare_params = {PRODUCT_PARAM: product.name, **settings.prepare_params}
    prepare = step(PREPARE, prepare_params, prepare_params, settings.data_digest)
    train = step(TRAIN, {"data": prepared_uri(prepare.info.run_id), **settings.train_params},
                 settings.train_resolved, prepare.data.tags[TAG_CACHE_OUTPUT])
    # A register run is keyed by its train run's work: a train run made just now has none.
    register = step(REGISTER, {"train_run_id": train.info.run_id}, {},
                    train.data.tags[TAG_CACHE_OUTPUT],
                    look=record[step_cached_tag(TRAIN)] == "true")
    record.update({TAG_REGISTERED_MODEL: product.registered_model,
                   TAG_MODEL_VERSION: register.data.tags[TAG_MODEL_VERSION],
                   TAG_ALIAS: register.data.tags[TAG_ALIAS]})
    return dict(train.data.metrics)


def run_pipeline(product: Product, route: Route, settings: PipelineSettings,
                 parent_run_id: str | None = None,
                 launcher_run_id: str | None = None) -> ProductResult:
    """One product's pipeline in this thread, under run ``parent_run_id`` or a new parent run
    in the route's experiment, which is named on the launcher run. A lost tracking server ends
    it with one line (the step's own, or this one) and nothing more recorded: a later pipeline
    ends the runs it left RUNNING (``end_dead_runs``)."""
    try:
        return pipeline_in_parent(product, route, settings, parent_run_id, launcher_run_id)
    except Exception as error:
        if lost_connection(error) is None:
            raise
        stop_retrying()
        if not reported_by_step(error):
            print(f"error: {product.name} {PIPELINE}: lost the tracking server at "
                  f"{tracking_uri_for_humans()}", file=sys.stderr, flush=True)
        return ProductResult(product=product, parent_run_id=parent_run_id, status=LOST)


def pipeline_in_parent(product: Product, route: Route, settings: PipelineSettings,
                       parent_run_id: str | None, launcher_run_id: str | None) -> ProductResult:
    """``run_pipeline``'s work: the parent run, its steps, the product's result (from what the
    steps returned: nothing is read back)."""
    client = MlflowClient()
    # The parent run starts with its tags (one request), its process among them, so a rerun
    # can tell when it was left behind.
    tags = {TAG_PROCESS: process_identity(), TAG_PRODUCT: product.name, TAG_STEP: PIPELINE,
            **provenance_tags("main"), TAG_EXPERIMENT_CHOSEN: route.experiment,
            TAG_EXPERIMENT_REASON: route.reason}
    record: dict[str, str] = {}
    metrics: dict[str, float] = {}
    with mlflow.start_run(run_id=parent_run_id,
                          experiment_id=None if parent_run_id else route.experiment_id,
                          run_name=None if parent_run_id else run_name(product.name, PIPELINE),
                          tags=tags) as parent:
        if launcher_run_id and launcher_run_id != parent.info.run_id:
            # The launcher's process goes with it, so a rerun can end it if this one dies.
            log_record(launcher_run_id, tags={pipeline_tag(product.name): parent.info.run_id,
                                              TAG_PROCESS: tags[TAG_PROCESS]})
        print(f"{product.name} {PIPELINE}: run {parent.info.run_id} in {route.experiment} "
              f"({run_location(parent)}), env manager {settings.env_manager}", flush=True)
        error = None
        try:
            metrics = run_steps(product, route, settings, record)
        except StepFailed as failure:
            error = str(failure)
            print(f"error: {error}", file=sys.stderr, flush=True)
        except Exception as bug:  # our bug in one product stops no other; a lost server all
            if lost_connection(bug):
                stop_retrying()  # before ending the parent run on the way out
                raise
            error = f"{product.name} {PIPELINE} failed: {bug!r}"
            print_traceback(bug)
        if error is None:
            log_record(parent.info.run_id, metrics, tags=record)
        elif record:
            log_record(parent.info.run_id, tags=record)  # what the steps so far did
    if error is not None:
        fail_run(client, parent.info.run_id, error)
    return ProductResult(product=product, parent_run_id=parent.info.run_id,
                         status=FINISHED if error is None else FAILED, metrics=metrics,
                         model_version=record.get(TAG_MODEL_VERSION),
                         alias=record.get(TAG_ALIAS), experiment=route.experiment,
                         train_run_id=record.get(step_run_tag(TRAIN)))


def end_dead_runs(client: MlflowClient, experiment_ids: list[str]) -> list[str]:
    """End FAILED, the reason in a tag, every RUNNING run of ``experiment_ids`` whose process
    (its own, else its parent run's) is provably gone from this host: what a lost tracking
    server or a kill left behind, so the store shows nothing RUNNING that is not running."""
    running = client.search_runs(sorted(set(experiment_ids)), max_results=5000,
                                 filter_string=f"attributes.status = '{RUNNING}'")
    owners = {run.info.run_id: run.data.tags.get(TAG_PROCESS) for run in running}
    ended = []
    for run in running:
        tags = run.data.tags
        process = tags.get(TAG_PROCESS) or owners.get(tags.get(TAG_PARENT_RUN, ""))
        if process_gone(process):
            fail_run(client, run.info.run_id,
                     f"left RUNNING by process {process}, which ended without ending it (the "
                     "tracking server was lost, or the process killed); ended by a later run")
            ended.append(run.info.run_id)
    return ended


def start_fan_out(client: MlflowClient, routes: list[tuple[Product, Route]],
                  launcher: Run | None) -> None:
    """End the runs earlier pipelines of these experiments (and the launcher's) left RUNNING
    when their process died."""
    experiments = [route.experiment_id for _, route in routes]
    if launcher is not None:
        experiments.append(launcher.info.experiment_id)
    ended = end_dead_runs(client, experiments)
    if ended:
        print(f"note: ended FAILED {len(ended)} runs left RUNNING by pipelines whose process is "
              "gone (see their grocery.error tag)", file=sys.stderr, flush=True)


def adopted_parent(routes: list[tuple[Product, Route]], launcher: Run | None) -> str | None:
    """The launcher run, when it is a single product's parent: it already sits in that product's
    experiment (`mlflow run --experiment-name Apple_Models -P product=apples`)."""
    if launcher is None or len(routes) != 1:
        return None
    return (launcher.info.run_id
            if launcher.info.experiment_id == routes[0][1].experiment_id else None)


def run_products(routes: list[tuple[Product, Route]], settings: PipelineSettings,
                 max_parallel: int, launcher: Run | None) -> list[ProductResult]:
    """Each (product, route) pipeline, ``max_parallel`` at once; one failing product stops no
    other."""
    parent_run_id = adopted_parent(routes, launcher)
    launcher_run_id = launcher.info.run_id if launcher else None
    with ThreadPoolExecutor(max_workers=max_parallel) as pool:
        futures = [pool.submit(run_pipeline, product, route, settings, parent_run_id,
                               launcher_run_id) for product, route in routes]
        return [future.result() for future in futures]


# The summary's scores, each with its printed precision: the backtest's rmse and MASE, and how
# often the 80% interval held the actual (nominally 0.80).
SUMMARY_METRICS = {"rmse": ".2f", "mase": ".3f", "coverage_80": ".2f"}


def summary_table(results: list[ProductResult]) -> str:
    """The end-of-run table: product, experiment, scores, model version, alias, status."""
    def score(metrics: dict[str, float], name: str) -> str:
        return format(metrics[name], SUMMARY_METRICS[name]) if name in metrics else "-"

    header = (TAG_PRODUCT, "experiment", *SUMMARY_METRICS, "version", TAG_ALIAS, "status")
    return text_table(header, [
        (r.product.name, r.experiment or r.product.experiment,
         *(score(r.metrics, name) for name in SUMMARY_METRICS),
         r.model_version or "-", r.alias or "-", r.status)
        for r in results])


def overall_status(results: list[ProductResult]) -> str:
    """FINISHED when every product's pipeline finished, LOST when the tracking server went
    away, else FAILED."""
    if any(r.status == LOST for r in results):
        return LOST
    return FINISHED if all(r.status == FINISHED for r in results) else FAILED
