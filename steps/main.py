"""main: the whole pipeline (prepare -> train -> register) for a product, a department or all.

Each product gets one parent run in its own experiment; each step is its own `mlflow.run`
nested under it. Several products run in parallel, each in its own process. The run
`mlflow run` made for this entry point only records which product pipelines it started.
"""

from __future__ import annotations

import argparse
import os
import sys

from mlflow.tracking import MlflowClient

from grocery.cli import add_pipeline_arguments, extra_params, pipeline_settings
from grocery.config import load_config
from grocery.errors import UserError, exit_on_user_error
from grocery.experiments import own_data_schema, route_run, synthetic_schema
from grocery.pipeline import fan_out, run_product, summary_table
from grocery.tracking import configure_mlflow, env_manager_of


def main() -> None:
    configure_mlflow()
    # The run `mlflow run` made for us lives in Default (or the experiment the user named): it
    # must not become the parent of product runs, so we take it out of the environment. We end
    # it ourselves, so that `mlflow run` does not print its address (credentials and all).
    launcher_id = os.environ.pop("MLFLOW_RUN_ID", None)
    status = "FAILED"
    try:
        status = run_pipelines(launcher_id)
    finally:
        if launcher_id:
            MlflowClient().set_terminated(launcher_id, status)
    if status != "FINISHED":
        sys.exit(1)


def run_pipelines(launcher_id: str | None) -> str:
    """Run every selected product's pipeline, print the summary; return the overall status."""
    parser = argparse.ArgumentParser(description=__doc__)
    add_pipeline_arguments(parser)
    parser.add_argument("--max-parallel", type=int, required=True)
    args, rest = parser.parse_known_args()
    catalog = load_config()
    if args.data:  # a user's own table: one product, in the catalog or not
        products = [catalog.find_product(args.product, args.department)]
    else:
        products = catalog.resolve(args.product)
    if args.max_parallel < 0:
        raise UserError(f"max_parallel must be 0 (one per core) or more, got {args.max_parallel}")
    max_parallel = args.max_parallel or os.cpu_count() or 1

    client = MlflowClient()
    settings = pipeline_settings(args, extra_params(rest), env_manager_of(client, launcher_id))
    # The tutorial's rule: a run whose data schema or model family differs from what a
    # product's experiment holds goes to a new experiment (grocery/experiments.py).
    schema = (own_data_schema(args.data, args.target, args.date_column,
                              float(args.validation_fraction), args.split)[0]
              if args.data else synthetic_schema())
    family = catalog.model(args.model).family
    experiments = [(p, route_run(client, catalog, p, schema, family)[0]) for p in products]

    if len(experiments) == 1:
        (product, experiment_id), = experiments
        launcher = client.get_run(launcher_id) if launcher_id else None
        own_run = launcher is not None and launcher.info.experiment_id == experiment_id
        results = [run_product(product, experiment_id, settings,
                               run_id=launcher_id if own_run else None, launcher_id=launcher_id)]
    else:
        results = fan_out(experiments, settings, max_parallel, launcher_id)

    print()
    print(summary_table(results))
    return "FINISHED" if all(r.status == "FINISHED" for r in results) else "FAILED"


if __name__ == "__main__":
    exit_on_user_error(main)
