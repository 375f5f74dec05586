"""pipeline: one product's prepare -> train -> register under this entry point's own run.

Started by `main` for each product when several run in parallel; its run, in the product's
experiment, is the parent of the three step runs.
"""

from __future__ import annotations

import argparse
import os

from mlflow.tracking import MlflowClient

from grocery.cli import add_pipeline_arguments, extra_params, pipeline_settings
from grocery.config import load_config
from grocery.errors import exit_on_user_error
from grocery.pipeline import LAUNCHER_ENV, run_product
from grocery.tracking import configure_mlflow, env_manager_of


def main() -> None:
    configure_mlflow()
    parser = argparse.ArgumentParser(description=__doc__)
    add_pipeline_arguments(parser)
    args, rest = parser.parse_known_args()
    product = load_config().find_product(args.product, args.department)
    run_id = os.environ["MLFLOW_RUN_ID"]
    client = MlflowClient()
    settings = pipeline_settings(args, extra_params(rest), env_manager_of(client, run_id))
    run = client.get_run(run_id)
    result = run_product(product, run.info.experiment_id, settings, run_id=run_id,
                         launcher_id=os.environ.get(LAUNCHER_ENV))
    if result.status != "FINISHED":
        raise SystemExit(1)


if __name__ == "__main__":
    exit_on_user_error(main)
