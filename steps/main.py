"""main: the whole pipeline (prepare -> train -> register) for a product, a department or all.

Each product gets one parent run in its own experiment; each step is its own `mlflow.run`
nested under it. The run `mlflow run` made for this entry point only records which product
pipelines it started.
"""

from __future__ import annotations

import argparse
import os
import sys

import mlflow
from mlflow.tracking import MlflowClient

from grocery.catalog import load_catalog
from grocery.cli import extra_params
from grocery.dataset import split_sizes
from grocery.errors import UserError, exit_on_user_error
from grocery.modeling import resolve_hyperparameters
from grocery.pipeline import (
    PipelineSettings,
    ProductResult,
    StepFailed,
    run_product,
    summary_table,
)
from grocery.tracking import (
    ensure_experiment,
    env_manager_of,
    fail_run,
    provenance_tags,
    run_location,
)

PREPARE_PARAMS = ("rows", "end_date", "seed", "validation_fraction", "split")


def parse_args() -> tuple[argparse.Namespace, dict[str, str]]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--product", required=True)
    for name in PREPARE_PARAMS:
        parser.add_argument(f"--{name.replace('_', '-')}", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--use-cache", required=True)
    args, rest = parser.parse_known_args()
    return args, extra_params(rest)


def validate(args: argparse.Namespace, hyperparameters: dict[str, str]) -> dict[str, object]:
    """Refuse bad parameters before any run starts; return train's resolved parameters."""
    try:
        rows, fraction = int(args.rows), float(args.validation_fraction)
        int(args.seed)
    except ValueError as error:
        raise UserError(
            f"rows and seed must be integers, validation_fraction a number: {error}"
        ) from None
    split_sizes(rows, fraction, args.split)
    if args.use_cache not in ("true", "false"):
        raise UserError(f"use_cache must be true or false, got {args.use_cache!r}")
    resolved = resolve_hyperparameters(load_catalog().model(args.model), hyperparameters)
    return {"model": args.model, **resolved}


def main() -> None:
    args, hyperparameters = parse_args()
    catalog = load_catalog()
    products = catalog.resolve(args.product)
    train_resolved = validate(args, hyperparameters)

    client = MlflowClient()
    # The run `mlflow run` made for us: it must not become the parent of step runs in other
    # experiments, so we take it out of the environment and address it by id.
    launcher_id = os.environ.pop("MLFLOW_RUN_ID", None)
    launcher = client.get_run(launcher_id) if launcher_id else None
    env_manager = env_manager_of(client, launcher_id)
    settings = PipelineSettings(
        prepare_params={name: str(getattr(args, name)) for name in PREPARE_PARAMS},
        train_params={"model": args.model, **hyperparameters},
        train_resolved=train_resolved,
        env_manager=env_manager,
        use_cache=args.use_cache == "true",
    )

    results = []
    for product in products:
        experiment_id = ensure_experiment(client, catalog, product)
        own_run = (launcher is not None and len(products) == 1
                   and launcher.info.experiment_id == experiment_id)
        with mlflow.start_run(
            run_id=launcher_id if own_run else None,
            experiment_id=None if own_run else experiment_id,
            run_name=None if own_run else f"{product.name}-pipeline",
        ) as parent:
            result = ProductResult(product, parent.info.run_id)
            mlflow.set_tags(provenance_tags("main"))
            results.append(result)
            if launcher_id and not own_run:
                client.set_tag(launcher_id, f"pipeline.{product.name}", parent.info.run_id)
            print(f"{product.name} pipeline: run {parent.info.run_id} in {product.experiment} "
                  f"({run_location(parent)}), env manager {env_manager}", flush=True)
            try:
                run_product(result, experiment_id, settings)
            except StepFailed as error:
                result.status, result.error = "FAILED", str(error)
                print(f"error: {error}", file=sys.stderr, flush=True)
        if result.status == "FAILED":
            fail_run(client, result.parent_run_id, result.error or "a step failed")

    print()
    print(summary_table(results))
    if any(r.status != "FINISHED" for r in results):
        sys.exit(1)


if __name__ == "__main__":
    exit_on_user_error(main)
