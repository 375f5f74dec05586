"""How `main` runs products: each step its own `mlflow.run`, nested under a parent run per product.

A product's pipeline is prepare -> train -> register; a step is reused when a finished run did
the same work (grocery/cache.py). One product or many run the same way: a pool of
``max_parallel`` worker threads, each running one product's pipeline in this process. MLflow
keeps the active run per thread, so each worker's steps nest under that worker's parent run.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import mlflow
from mlflow.entities import Run, RunStatus
from mlflow.exceptions import ExecutionException
from mlflow.tracking import MlflowClient

from grocery.cache import cache_key, find_cached, remember
from grocery.config import PROJECT_DIR, Product
from grocery.console import text_table
from grocery.errors import lost_connection, print_traceback
from grocery.names import (
    PIPELINE,
    PREPARE,
    REGISTER,
    TAG_ALIAS,
    TAG_CACHE_OUTPUT,
    TAG_EXPERIMENT_CHOSEN,
    TAG_EXPERIMENT_REASON,
    TAG_MODEL_VERSION,
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
from grocery.tracking import fail_run, provenance_tags, run_location

FINISHED = RunStatus.to_string(RunStatus.FINISHED)
FAILED = RunStatus.to_string(RunStatus.FAILED)
OWN_EXPERIMENT = "the product's own experiment"  # the reason when the rule moved nothing


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


class StepFailed(Exception):
    """A step's run ended other than FINISHED."""


def run_step(step: str, parameters: dict[str, str], product: Product, experiment_id: str,
             env_manager: str) -> str:
    """Run one entry point of this project as a child of this thread's active run; its run id."""
    try:
        return mlflow.run(str(PROJECT_DIR), entry_point=step, parameters=parameters,
                          experiment_id=experiment_id, run_name=run_name(product.name, step),
                          env_manager=env_manager, synchronous=True).run_id
    except ExecutionException as error:
        raise StepFailed(f"{product.name} {step} failed: {error}") from None


def run_steps(product: Product, experiment_id: str, settings: PipelineSettings) -> None:
    """prepare -> train -> register under this thread's parent run, each step reused from the
    cache when a finished run did the same work; each recorded on the parent run."""
    client = MlflowClient()

    def step(name: str, params: dict[str, str], key_params: dict, upstream: str | None) -> Run:
        key = cache_key(name, key_params, upstream)
        run = find_cached(client, experiment_id, name, key) if settings.use_cache else None
        cached = run is not None
        if not cached:
            run_id = run_step(name, params, product, experiment_id, settings.env_manager)
            run = remember(client, name, run_id, key)
        mlflow.set_tags({step_run_tag(name): run.info.run_id,
                         step_cached_tag(name): str(cached).lower()})
        print(f"{product.name} {name}: run {run.info.run_id} {'reused' if cached else FINISHED} "
              f"({run_location(run)})", flush=True)
        return run

    prepare_params = {PRODUCT_PARAM: product.name, **settings.prepare_params}
    prepare = step(PREPARE, prepare_params, prepare_params, settings.data_digest)
    train = step(TRAIN, {"data": prepared_uri(prepare.info.run_id), **settings.train_params},
                 settings.train_resolved, prepare.data.tags[TAG_CACHE_OUTPUT])
    register = step(REGISTER, {"train_run_id": train.info.run_id}, {},
                    train.data.tags[TAG_CACHE_OUTPUT])
    mlflow.log_metrics(train.data.metrics)
    mlflow.set_tags({TAG_REGISTERED_MODEL: product.registered_model,
                     TAG_MODEL_VERSION: register.data.tags[TAG_MODEL_VERSION],
                     TAG_ALIAS: register.data.tags[TAG_ALIAS]})


def run_pipeline(product: Product, experiment_id: str, settings: PipelineSettings,
                 parent_run_id: str | None = None,
                 launcher_run_id: str | None = None) -> ProductResult:
    """One product's pipeline in this thread, under run ``parent_run_id`` or a new parent run
    in ``experiment_id``, which is named on the launcher run."""
    with mlflow.start_run(run_id=parent_run_id,
                          experiment_id=None if parent_run_id else experiment_id,
                          run_name=None if parent_run_id else run_name(product.name, PIPELINE),
                          ) as parent:
        client = MlflowClient()
        if launcher_run_id and launcher_run_id != parent.info.run_id:
            client.set_tag(launcher_run_id, pipeline_tag(product.name), parent.info.run_id)
        experiment = client.get_experiment(experiment_id)
        mlflow.set_tags({TAG_PRODUCT: product.name, TAG_STEP: PIPELINE,
                         **provenance_tags("main"), TAG_EXPERIMENT_CHOSEN: experiment.name,
                         TAG_EXPERIMENT_REASON: experiment.tags.get(TAG_EXPERIMENT_REASON,
                                                                    OWN_EXPERIMENT)})
        print(f"{product.name} {PIPELINE}: run {parent.info.run_id} in {experiment.name} "
              f"({run_location(parent)}), env manager {settings.env_manager}", flush=True)
        error = None
        try:
            run_steps(product, experiment_id, settings)
        except StepFailed as failure:
            error = str(failure)
            print(f"error: {error}", file=sys.stderr, flush=True)
        except Exception as bug:  # our bug in one product stops no other; a lost server all
            if lost_connection(bug):
                raise
            error = f"{product.name} {PIPELINE} failed: {bug!r}"
            print_traceback(bug)
    if error is not None:
        fail_run(client, parent.info.run_id, error)
    return result_of(product, client.get_run(parent.info.run_id))


def result_of(product: Product, parent: Run) -> ProductResult:
    """A product's outcome, read back from its parent run."""
    tags = parent.data.tags
    return ProductResult(product=product, parent_run_id=parent.info.run_id,
                         status=parent.info.status, metrics=dict(parent.data.metrics),
                         model_version=tags.get(TAG_MODEL_VERSION), alias=tags.get(TAG_ALIAS),
                         experiment=tags.get(TAG_EXPERIMENT_CHOSEN))


def adopted_parent(routes: list[tuple[Product, str]], launcher_run_id: str | None) -> str | None:
    """The launcher run, when it is a single product's parent: it already sits in that product's
    experiment (`mlflow run --experiment-name Apple_Models -P product=apples`)."""
    if launcher_run_id is None or len(routes) != 1:
        return None
    launcher = MlflowClient().get_run(launcher_run_id)
    return launcher_run_id if launcher.info.experiment_id == routes[0][1] else None


def run_products(routes: list[tuple[Product, str]], settings: PipelineSettings,
                 max_parallel: int, launcher_run_id: str | None) -> list[ProductResult]:
    """Each (product, experiment id) pipeline, ``max_parallel`` at once; one failing product
    stops no other."""
    parent_run_id = adopted_parent(routes, launcher_run_id)
    with ThreadPoolExecutor(max_workers=max_parallel) as pool:
        futures = [pool.submit(run_pipeline, product, experiment_id, settings, parent_run_id,
                               launcher_run_id) for product, experiment_id in routes]
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
    """FINISHED when every product's pipeline finished, else FAILED."""
    return FINISHED if all(r.status == FINISHED for r in results) else FAILED
