"""pipeline: one product's prepare -> train -> register under this entry point's own run.

The same pipeline `main` runs for each product (grocery/orchestration.py), on its own: this
run, in the product's experiment, is the parent of the three step runs.
"""

from __future__ import annotations

import os

from mlflow.tracking import MlflowClient

from grocery.config import load_config
from grocery.errors import exit_on_user_error
from grocery.experiments import input_schema, route_to
from grocery.names import PIPELINE
from grocery.orchestration import FINISHED, LOST, ServerLost, end_dead_runs, run_pipeline
from grocery.parameters import parse_pipeline_arguments, pipeline_settings
from grocery.tracking import configure_mlflow, env_manager_of


def main() -> None:
    configure_mlflow()
    # Our own run, passed on explicitly as the product's parent run.
    run_id = os.environ.pop("MLFLOW_RUN_ID")
    args, hyperparameters = parse_pipeline_arguments(__doc__)
    product = load_config().find_product(args.product, args.department)
    _, digest = input_schema(args)
    client = MlflowClient()
    run = client.get_run(run_id)
    settings = pipeline_settings(args, hyperparameters, env_manager_of(run), digest)
    experiment = client.get_experiment(run.info.experiment_id)
    end_dead_runs(client, [experiment.experiment_id])  # what earlier pipelines left RUNNING
    result = run_pipeline(product, route_to(experiment), settings, parent_run_id=run_id)
    if result.status == LOST:  # said in one line; this run is left to a rerun to end
        raise ServerLost(f"{product.name} {PIPELINE} lost the tracking server")
    if result.status != FINISHED:
        raise SystemExit(1)


if __name__ == "__main__":
    exit_on_user_error(main)
