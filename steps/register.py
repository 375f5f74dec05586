"""register: make a train run's model a new registry version and decide its alias.

The champion gate (catalog.yaml ``champion_gate``) backtests the new version's configuration and
the champion's on the same folds of the new version's data: ``champion`` if it passes, else
``challenger``. The decision, both scores and the thresholds are logged on this run.
"""

from __future__ import annotations

import argparse

from mlflow.tracking import MlflowClient

from grocery import registry
from grocery.config import load_config
from grocery.errors import exit_on_user_error
from grocery.gate import decision_tags
from grocery.liveness import process_identity
from grocery.names import (
    REGISTER,
    TAG_DEPARTMENT,
    TAG_PREPARE_RUN,
    TAG_PROCESS,
    TAG_PRODUCT,
    TAG_TRAIN_RUN,
)
from grocery.prepared import prepared_table, prepared_uri
from grocery.step_run import step_run
from grocery.tracking import run_location


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, allow_abbrev=False)
    parser.add_argument("--train-run-id", required=True)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    config = load_config()
    client = MlflowClient()
    with step_run(REGISTER, extra_tags={TAG_PROCESS: process_identity()}) as step:
        train_run = registry.finished_train_run(client, args.train_run_id)
        tags = train_run.data.tags
        product = config.find_product(tags[TAG_PRODUCT], tags.get(TAG_DEPARTMENT, ""))
        step.log(tags={TAG_PRODUCT: product.name, TAG_TRAIN_RUN: train_run.info.run_id})
        # The process is written before the version exists: a registration queued behind
        # this one can then tell when this process is dead (grocery/liveness.py).
        step.flush()

        configuration = registry.trained_configuration(train_run)
        data = prepared_table(prepared_uri(tags[TAG_PREPARE_RUN]))  # read if the gate refits
        name = registry.ensure_registered_model(client, config, product)
        version = registry.register_version(client, name, train_run, product, step.run_id)
        outcome = registry.decide_version(client, version, config, configuration, data)

        registry.log_gate(step, outcome, version,
                          registry.evaluation_dataset(train_run),
                          {**registry.reference_tags(version),
                           **decision_tags(outcome.decision, config.gate, outcome.passed_over)})
    # Printed once the run has ended: the line says the step finished.
    print(f"{product.name} register: run {step.run_id}, {name} v{version.version} "
          f"@{outcome.decision.alias} ({outcome.decision.reason}) ({run_location(step.run)})")


if __name__ == "__main__":
    exit_on_user_error(main)
