"""Running the pipeline: each step is its own `mlflow.run`, nested under a parent run per product.

One product runs in the calling process; several fan out, each product's pipeline in its own
process (the `pipeline` entry point), at most ``max_parallel`` at a time.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import mlflow
from mlflow.entities import Run
from mlflow.exceptions import ExecutionException
from mlflow.tracking import MlflowClient

from grocery.cache import TAG_CACHE_OUTPUT, cache_key, find_cached, remember
from grocery.config import Product
from grocery.names import TAG_EXPERIMENT_CHOSEN, TAG_EXPERIMENT_REASON, TAG_PRODUCT, TAG_STEP
from grocery.tracking import fail_run, provenance_tags, run_location

PROJECT_DIR = Path(__file__).resolve().parent.parent
# The run `mlflow run` made for `main`, passed to the product pipelines it starts in parallel.
LAUNCHER_ENV = "GROCERY_LAUNCHER_RUN_ID"
STEPS = ("prepare", "train", "register")


def step_tag(step: str) -> str:
    """The parent-run tag that holds a step's run id."""
    return f"step.{step}.run_id"


@dataclass
class ProductResult:
    """What one product's pipeline produced, for the summary table."""

    product: Product
    parent_run_id: str | None
    status: str = "RUNNING"
    metrics: dict[str, float] = field(default_factory=dict)
    model_version: str | None = None
    alias: str | None = None
    error: str | None = None
    experiment: str | None = None  # where the experiment rule sent it


@dataclass(frozen=True)
class PipelineSettings:
    """What `main` passes to every product's steps."""

    prepare_params: dict[str, str]
    train_params: dict[str, str]
    # The train parameters as the model sees them (catalog defaults included), for the cache key.
    train_resolved: dict[str, object]
    env_manager: str
    use_cache: bool

    def as_parameters(self) -> dict[str, str]:
        """The parameters of the `pipeline` entry point that carry these settings."""
        return {**self.prepare_params, **self.train_params,
                "use_cache": str(self.use_cache).lower()}


class StepFailed(Exception):
    """A step's run ended other than FINISHED."""


def run_step(
    step: str, parameters: dict[str, str], product: Product, experiment_id: str, env_manager: str
) -> str:
    """Run one entry point of this project as a child of the active run; return its run id."""
    try:
        submitted = mlflow.run(
            str(PROJECT_DIR),
            entry_point=step,
            parameters=parameters,
            experiment_id=experiment_id,
            run_name=f"{product.name}-{step}",
            env_manager=env_manager,
            synchronous=True,
        )
    except ExecutionException as error:
        raise StepFailed(f"{product.name} {step} failed: {error}") from None
    return submitted.run_id


def run_steps(product: Product, experiment_id: str, settings: PipelineSettings) -> None:
    """Run (or reuse) prepare, train and register for one product under the active parent run."""
    client = MlflowClient()
    mlflow.set_tags({TAG_PRODUCT: product.name, TAG_STEP: "pipeline", **provenance_tags("main")})

    def execute(step: str, params: dict[str, str], key_params: dict, upstream: str | None) -> Run:
        key = cache_key(step, key_params, upstream)
        cached = find_cached(client, experiment_id, step, key) if settings.use_cache else None
        if cached is None:
            run_id = run_step(step, params, product, experiment_id, settings.env_manager)
            run = remember(client, step, run_id, key)
        else:
            run = cached
        mlflow.set_tags({step_tag(step): run.info.run_id,
                         f"step.{step}.cached": str(cached is not None).lower()})
        how = "reused" if cached is not None else "FINISHED"
        print(f"{product.name} {step}: run {run.info.run_id} {how} ({run_location(run)})",
              flush=True)
        return run

    prepare_params = {"product": product.name, **settings.prepare_params}
    own_data_digest = None
    if prepare_params.get("data"):  # the same path with new rows is new data: key on content
        from grocery.experiments import own_data_schema

        own_data_digest = own_data_schema(
            prepare_params["data"], prepare_params["target"], prepare_params["date_column"],
            float(prepare_params["validation_fraction"]), prepare_params["split"])[1]
    prepare = execute("prepare", prepare_params, prepare_params, own_data_digest)
    train = execute(
        "train",
        {"data": f"runs:/{prepare.info.run_id}/data", **settings.train_params},
        settings.train_resolved,
        prepare.data.tags[TAG_CACHE_OUTPUT],
    )
    register = execute(
        "register", {"train_run_id": train.info.run_id}, {}, train.data.tags[TAG_CACHE_OUTPUT]
    )
    mlflow.log_metrics(train.data.metrics)
    mlflow.set_tags({
        "registered_model": product.registered_model,
        "model_version": register.data.tags["model_version"],
        "alias": register.data.tags["alias"],
    })


def record_pipeline(launcher_id: str | None, product: Product, run_id: str) -> None:
    """Tag the run `mlflow run` made for `main` with a product pipeline it started."""
    if launcher_id and launcher_id != run_id:
        MlflowClient().set_tag(launcher_id, f"pipeline.{product.name}", run_id)


def run_product(
    product: Product,
    experiment_id: str,
    settings: PipelineSettings,
    run_id: str | None = None,
    launcher_id: str | None = None,
) -> ProductResult:
    """One product's pipeline in this process, under run ``run_id`` or a new parent run."""
    with mlflow.start_run(
        run_id=run_id,
        experiment_id=None if run_id else experiment_id,
        run_name=None if run_id else f"{product.name}-pipeline",
    ) as parent:
        record_pipeline(launcher_id, product, parent.info.run_id)
        experiment = MlflowClient().get_experiment(experiment_id)
        mlflow.set_tags({TAG_EXPERIMENT_CHOSEN: experiment.name,
                         TAG_EXPERIMENT_REASON: experiment.tags.get(
                             TAG_EXPERIMENT_REASON, "the product's own experiment")})
        print(f"{product.name} pipeline: run {parent.info.run_id} in {experiment.name} "
              f"({run_location(parent)}), env manager {settings.env_manager}", flush=True)
        try:
            run_steps(product, experiment_id, settings)
            error = None
        except StepFailed as failure:
            error = str(failure)
            print(f"error: {error}", file=sys.stderr, flush=True)
    client = MlflowClient()
    if error is not None:
        fail_run(client, parent.info.run_id, error)
    return result_of(product, client.get_run(parent.info.run_id))


def result_of(product: Product, parent: Run) -> ProductResult:
    """A product's outcome, read back from its parent run."""
    tags = parent.data.tags
    return ProductResult(
        product=product,
        parent_run_id=parent.info.run_id,
        status=parent.info.status,
        metrics=dict(parent.data.metrics),
        model_version=tags.get("model_version"),
        alias=tags.get("alias"),
        error=tags.get("grocery.error"),
        experiment=tags.get(TAG_EXPERIMENT_CHOSEN),
    )


def fan_out(
    products: list[tuple[Product, str]],
    settings: PipelineSettings,
    max_parallel: int,
    launcher_id: str | None,
) -> list[ProductResult]:
    """Run each (product, experiment id) pipeline in its own process, ``max_parallel`` at once.

    Each is the `pipeline` entry point started by ``mlflow.run`` from a worker thread (its
    command runs directly, without a second `mlflow run` process per product). A failing product
    does not stop the others; each outcome is read back from its parent run, which the pipeline
    names on the launcher run as soon as it starts.
    """
    client = MlflowClient()
    if launcher_id:
        os.environ[LAUNCHER_ENV] = launcher_id

    def one(product: Product, experiment_id: str) -> ProductResult:
        try:
            run_id = mlflow.run(
                str(PROJECT_DIR),
                entry_point="pipeline",
                parameters={"product": product.name, **settings.as_parameters()},
                experiment_id=experiment_id,
                run_name=f"{product.name}-pipeline",
                env_manager=settings.env_manager,
                synchronous=True,
            ).run_id
        except ExecutionException as error:
            print(f"error: {product.name} pipeline failed: {error}", file=sys.stderr, flush=True)
            tags = client.get_run(launcher_id).data.tags if launcher_id else {}
            run_id = tags.get(f"pipeline.{product.name}")
        if run_id is None:
            return ProductResult(product, None, status="FAILED")
        return result_of(product, client.get_run(run_id))

    with ThreadPoolExecutor(max_workers=max_parallel) as pool:
        futures = [pool.submit(one, product, experiment_id) for product, experiment_id in products]
        return [future.result() for future in futures]


def summary_table(results: list[ProductResult]) -> str:
    """The end-of-run table: product, experiment, rmse, model version, alias, status."""
    header = ("product", "experiment", "rmse", "version", "alias", "status")
    rows = [
        (
            r.product.name,
            r.experiment or r.product.experiment,
            f"{r.metrics['rmse']:.2f}" if "rmse" in r.metrics else "-",
            r.model_version or "-",
            r.alias or "-",
            r.status,
        )
        for r in results
    ]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
