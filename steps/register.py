"""register: make a train run's model a new registry version and decide its alias."""

from __future__ import annotations

import argparse

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from grocery.catalog import (
    TAG_DATA_DIGEST,
    TAG_DEPARTMENT,
    TAG_MODEL_URI,
    TAG_PREPARE_RUN,
    TAG_PRODUCT,
    TAG_STEP,
    TAG_TRAIN_RUN,
    load_catalog,
)
from grocery.errors import UserError, exit_on_user_error
from grocery.registry import assign_alias, ensure_registered_model, register_version
from grocery.tracking import TAG_GIT_COMMIT, run_location, step_run


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train-run-id", required=True)
    return parser.parse_args()


def finished_train_run(client: MlflowClient, run_id: str) -> mlflow.entities.Run:
    """The train run ``run_id``, or a UserError saying why it cannot be registered."""
    try:
        run = client.get_run(run_id)
    except MlflowException:
        raise UserError(f"train_run_id {run_id!r} does not exist in this tracking store") from None
    step = run.data.tags.get(TAG_STEP)
    if step != "train":
        what = f"a {step} run" if step else "not a pipeline step"
        raise UserError(f"run {run_id} is not a train run (it is {what})")
    if run.info.status != "FINISHED":
        raise UserError(f"train run {run_id} is {run.info.status}, not FINISHED")
    return run


def main() -> None:
    args = parse_args()
    catalog = load_catalog()
    client = MlflowClient()
    with step_run("register") as run:
        train_run = finished_train_run(client, args.train_run_id)
        train_tags, metrics = train_run.data.tags, train_run.data.metrics
        product = catalog.product(train_tags[TAG_PRODUCT])
        mlflow.set_tags({TAG_PRODUCT: product.name, TAG_TRAIN_RUN: train_run.info.run_id})

        name = ensure_registered_model(client, catalog, product)
        version = register_version(
            name,
            train_tags[TAG_MODEL_URI],
            tags={
                TAG_PRODUCT: product.name,
                TAG_DEPARTMENT: product.department,
                TAG_TRAIN_RUN: train_run.info.run_id,
                TAG_PREPARE_RUN: train_tags[TAG_PREPARE_RUN],
                TAG_DATA_DIGEST: train_tags[TAG_DATA_DIGEST],
                "git_commit": train_tags.get(TAG_GIT_COMMIT, "unknown"),
                "rmse": repr(metrics["rmse"]),
                "mae": repr(metrics["mae"]),
            },
        )
        decision = assign_alias(client, version, metrics["rmse"])

        mlflow.set_tags({
            "registered_model": name,
            "model_version": version.version,
            "alias": decision.alias,
            "alias_reason": decision.reason,
        })
        mlflow.log_metric("candidate_rmse", decision.candidate_rmse)
        if decision.champion_rmse is not None:
            mlflow.log_metric("champion_rmse", decision.champion_rmse)
        print(f"{product.name} register: run {run.info.run_id}, {name} v{version.version} "
              f"@{decision.alias} ({decision.reason}) ({run_location(run)})")


if __name__ == "__main__":
    exit_on_user_error(main)
