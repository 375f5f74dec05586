"""Running one product's pipeline: each step is its own `mlflow.run`, nested under a parent run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import mlflow
from mlflow.exceptions import ExecutionException
from mlflow.tracking import MlflowClient

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


def run_product(
    result: ProductResult,
    experiment_id: str,
    prepare_params: dict[str, str],
    train_params: dict[str, str],
    env_manager: str,
) -> None:
    """Run prepare, train and register for one product under the active (parent) run."""
    client = MlflowClient()
    product = result.product
    mlflow.set_tags({TAG_PRODUCT: product.name, TAG_STEP: "pipeline"})

    def finished(step: str, run_id: str) -> None:
        result.step_runs[step] = run_id
        mlflow.set_tag(step_tag(step), run_id)
        location = run_location(client.get_run(run_id))
        print(f"{product.name} {step}: run {run_id} FINISHED ({location})", flush=True)

    prepare_id = run_step(
        "prepare", {"product": product.name, **prepare_params}, product, experiment_id, env_manager
    )
    finished("prepare", prepare_id)
    train_id = run_step(
        "train", {"data": f"runs:/{prepare_id}/data", **train_params}, product, experiment_id,
        env_manager,
    )
    finished("train", train_id)
    register_id = run_step(
        "register", {"train_run_id": train_id}, product, experiment_id, env_manager
    )
    finished("register", register_id)

    result.metrics = dict(client.get_run(train_id).data.metrics)
    register_tags = client.get_run(register_id).data.tags
    result.model_version = register_tags["model_version"]
    result.alias = register_tags["alias"]
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
