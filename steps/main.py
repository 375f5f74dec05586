"""main: the whole pipeline (prepare -> train -> register) for a product, a department or all.

Each product gets a parent run in its experiment (grocery/experiments.py decides which), each
step its own `mlflow.run` nested under it, ``max_parallel`` products at a time (see
grocery/orchestration.py).
"""

from __future__ import annotations

import os
import sys

from mlflow.tracking import MlflowClient

from grocery import orchestration
from grocery.config import load_config
from grocery.errors import exit_on_user_error
from grocery.experiments import input_schema, route_for
from grocery.orchestration import FAILED, LOST, overall_status, run_products, summary_table
from grocery.parameters import (
    check_capacity,
    parse_pipeline_arguments,
    pipeline_settings,
    worker_count,
)
from grocery.tracking import configure_mlflow, env_manager_of


def main() -> None:
    configure_mlflow()
    # The run `mlflow run` made for us, passed on explicitly (no parent run may resume it from
    # the environment). `mlflow run` ends it by this process's exit status: 0 FINISHED, else
    # FAILED.
    status = run_main(os.environ.pop("MLFLOW_RUN_ID", None))
    if status == LOST:  # each product said so in one line; the runs left RUNNING a rerun ends
        raise orchestration.ServerLost("the tracking server went away during the pipelines")
    if status == FAILED:
        sys.exit(1)


def run_main(launcher_run_id: str | None) -> str:
    """Run every selected product's pipeline, print the summary; return the overall status."""
    args, hyperparameters = parse_pipeline_arguments(__doc__, "max_parallel")
    catalog = load_config()
    products = ([catalog.find_product(args.product, args.department)] if args.data  # own table
                else catalog.resolve(args.product))
    workers = worker_count(args.max_parallel)
    check_capacity(args, min(workers, len(products)))
    family = catalog.model(args.model).family
    # The user's table is read once, here: its schema routes the runs, its digest keys the cache.
    schema, digest = input_schema(args)
    client = MlflowClient()
    launcher = client.get_run(launcher_run_id) if launcher_run_id else None
    settings = pipeline_settings(args, hyperparameters, env_manager_of(launcher), digest)
    routes = [(p, route_for(client, catalog, p, schema, family)) for p in products]
    orchestration.start_fan_out(client, routes, launcher)
    results = run_products(routes, settings, workers, launcher)
    if int(args.stores) > 1:  # a chain: each whole department's bottom-up total
        # Lazy: scoring imports scikit-learn and statsmodels (~1.5 s), which one series skips.
        from grocery.department_totals import record_departments

        print("\n".join(record_departments(results, catalog, launcher_run_id)))
    print(f"\n{summary_table(results)}")
    return overall_status(results)


if __name__ == "__main__":
    exit_on_user_error(main)
