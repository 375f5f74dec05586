"""register: make a train run's model a new registry version and decide its alias.

The champion gate (catalog.yaml ``champion_gate``) scores the new version and the current
champion on the new version's validation rows; the version becomes ``champion`` if it passes,
else ``challenger``. The decision, both scores and the thresholds are logged on this run.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from grocery.config import load_config
from grocery.errors import UserError, exit_on_user_error
from grocery.names import (
    TAG_DATA_DIGEST,
    TAG_DEPARTMENT,
    TAG_GATE_DECISION,
    TAG_GATE_REASON,
    TAG_GATE_THRESHOLDS,
    TAG_MODEL_URI,
    TAG_PREPARE_RUN,
    TAG_PRODUCT,
    TAG_REGISTER_RUN,
    TAG_STEP,
    TAG_TRAIN_RUN,
)
from grocery.registry import (
    ensure_registered_model,
    gate_version,
    record_decision,
    register_version,
    wait_for_earlier_decisions,
)
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
    catalog = load_config()
    client = MlflowClient()
    with step_run("register") as run:
        train_run = finished_train_run(client, args.train_run_id)
        train_tags, metrics = train_run.data.tags, train_run.data.metrics
        product = catalog.find_product(train_tags[TAG_PRODUCT], train_tags.get(TAG_DEPARTMENT, ""))
        mlflow.set_tags({TAG_PRODUCT: product.name, TAG_TRAIN_RUN: train_run.info.run_id})

        name = ensure_registered_model(client, catalog, product)
        version = register_version(
            name,
            train_tags[TAG_MODEL_URI],
            tags={
                TAG_PRODUCT: product.name,
                TAG_DEPARTMENT: product.department,
                TAG_TRAIN_RUN: train_run.info.run_id,
                TAG_REGISTER_RUN: run.info.run_id,
                TAG_PREPARE_RUN: train_tags[TAG_PREPARE_RUN],
                TAG_DATA_DIGEST: train_tags[TAG_DATA_DIGEST],
                "git_commit": train_tags.get(TAG_GIT_COMMIT, "unknown"),
                "rmse": repr(metrics["rmse"]),
                "mae": repr(metrics["mae"]),
            },
        )
        from grocery.artifacts import load_prepared
        from grocery.dataset import TARGET

        _, validation, meta = load_prepared(f"runs:/{train_tags[TAG_PREPARE_RUN]}/data")
        rules = load_config().gate
        passed_over = wait_for_earlier_decisions(client, version)
        decision = gate_version(client, version, rules, validation, meta.get("target", TARGET))
        record_decision(client, version, decision.decision)
        if passed_over:
            mlflow.set_tag("gate_passed_over", ",".join(passed_over))

        mlflow.set_tags({
            "registered_model": name,
            "model_version": version.version,
            "alias": decision.alias,
            "alias_reason": decision.reason,
            TAG_GATE_DECISION: decision.decision,
            TAG_GATE_REASON: decision.reason,
            TAG_GATE_THRESHOLDS: json.dumps([asdict(rule) for rule in rules]),
        })
        scores = {f"candidate_{k}": v for k, v in decision.candidate.items()}
        if decision.champion is not None:
            scores.update({f"champion_{k}": v for k, v in decision.champion.items()})
            mlflow.set_tag("champion_version", decision.champion_version)
        mlflow.log_metrics(scores)
        print(f"{product.name} register: run {run.info.run_id}, {name} v{version.version} "
              f"@{decision.alias} ({decision.reason}) ({run_location(run)})")

if __name__ == "__main__":
    exit_on_user_error(main)
