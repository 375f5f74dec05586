"""Running one product's pipeline: each step is its own `mlflow.run`, nested under a parent run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import mlflow
from mlflow.entities import Run
from mlflow.exceptions import ExecutionException
from mlflow.tracking import MlflowClient

from grocery.cache import TAG_CACHE_OUTPUT, cache_key, find_cached, remember
from grocery.catalog import TAG_PRODUCT, TAG_STEP, Product
from grocery.tracking import run_location

PROJECT_DIR = Path(__file__).resolve().parent.parent
STEPS = ("prepare", "train", "register")


def step_tag(step: str) -> str:
    """The parent-run tag that holds a step's run id."""
    return f"step.{step}.run_id"


@dataclass
class ProductResult:
    """What one product's pipeline produced, for the summary table."""

    product: Product
    parent_run_id: str
    status: str = "RUNNING"
    step_runs: dict[str, str] = field(default_factory=dict)
    reused: dict[str, bool] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    model_version: str | None = None
    alias: str | None = None
    error: str | None = None


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


@dataclass(frozen=True)
class PipelineSettings:
    """What `main` passes to every product's steps."""

    prepare_params: dict[str, str]
    train_params: dict[str, str]
    # The train parameters as the model sees them (catalog defaults included), for the cache key.
    train_resolved: dict[str, object]
    env_manager: str
    use_cache: bool


def run_product(result: ProductResult, experiment_id: str, settings: PipelineSettings) -> None:
    """Run (or reuse) prepare, train and register for one product under the active parent run."""
    client = MlflowClient()
    product = result.product
    mlflow.set_tags({TAG_PRODUCT: product.name, TAG_STEP: "pipeline"})

    def execute(step: str, params: dict[str, str], key_params: dict, upstream: str | None) -> Run:
        key = cache_key(step, key_params, upstream)
        cached = find_cached(client, experiment_id, step, key) if settings.use_cache else None
        if cached is None:
            run_id = run_step(step, params, product, experiment_id, settings.env_manager)
            run = remember(client, step, run_id, key)
        else:
            run = cached
        result.step_runs[step] = run.info.run_id
        result.reused[step] = cached is not None
        mlflow.set_tags({step_tag(step): run.info.run_id,
                         f"step.{step}.cached": str(cached is not None).lower()})
        how = "reused" if cached is not None else "FINISHED"
        print(f"{product.name} {step}: run {run.info.run_id} {how} ({run_location(run)})",
              flush=True)
        return run

    prepare_params = {"product": product.name, **settings.prepare_params}
    prepare = execute("prepare", prepare_params, prepare_params, None)
    train = execute(
        "train",
        {"data": f"runs:/{prepare.info.run_id}/data", **settings.train_params},
        settings.train_resolved,
        prepare.data.tags[TAG_CACHE_OUTPUT],
    )
    register = execute(
        "register", {"train_run_id": train.info.run_id}, {}, train.data.tags[TAG_CACHE_OUTPUT]
    )

    result.metrics = dict(train.data.metrics)
    result.model_version = register.data.tags["model_version"]
    result.alias = register.data.tags["alias"]
    mlflow.log_metrics(result.metrics)
    mlflow.set_tags({
        "registered_model": product.registered_model,
        "model_version": result.model_version,
        "alias": result.alias,
    })
    result.status = "FINISHED"


def summary_table(results: list[ProductResult]) -> str:
    """The end-of-run table: product, experiment, rmse, model version, alias, status."""
    header = ("product", "experiment", "rmse", "version", "alias", "status")
    rows = [
        (
            r.product.name,
            r.product.experiment,
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
