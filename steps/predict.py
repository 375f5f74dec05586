"""predict: forecast with ``models:/grocery-forecasting-<product>@<model_alias>`` (or
``/<model_version>``) the days after the history in ``input`` (.csv or .parquet: history rows, then
the days to forecast with their known-ahead columns) or, without it, a catalog product's ``horizon``
days after its training data beside what then happened (``actual``); written to ``output``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

from grocery import registry
from grocery.config import load_config
from grocery.errors import exit_on_user_error
from grocery.model_inputs import model_inputs
from grocery.names import PREDICT, TAG_MODEL_URI
from grocery.parameters import PRODUCT_PARAM
from grocery.tables import check_output, read_table, write_table
from grocery.tracking import run_location, step_run

OUTPUT_DIR = "predictions"  # the output's folder among the run's artifacts


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, allow_abbrev=False)
    for name in (PRODUCT_PARAM, "output"):
        parser.add_argument(f"--{name}", required=True)
    for name in ("input", "model-alias", "model-version"):
        parser.add_argument(f"--{name}", default="")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    config = load_config()
    product = registry.predict_product(config, args.product)
    ref = registry.product_model_ref(product.name, args.model_alias, args.model_version)
    check_output(args.output, args.input)  # a bad output name, or the input, before any work
    with step_run(PREDICT, product) as run:
        version = registry.resolve(MlflowClient(), ref)
        mlflow.set_tags({**registry.reference_tags(version, ref),
                         TAG_MODEL_URI: registry.version_uri(version)})
        table, actual = ((read_table(args.input), None) if args.input else
                         registry.catalog_continuation(MlflowClient(), config, version))
        # The columns are checked against the signature before the model loads.
        inputs = model_inputs(table, registry.input_columns(version))
        forecast = registry.with_actual(registry.load_model(version).predict(inputs), actual)
        written = write_table(forecast, Path(args.output).resolve())
        mlflow.log_artifact(str(written), OUTPUT_DIR)
        mlflow.log_metric("rows", len(forecast))
        print(f"{product.name} predict: run {run.info.run_id}, {len(forecast)} rows forecast with "
              f"{version.name} v{version.version} ({ref}) -> {written} ({run_location(run)})")


if __name__ == "__main__":
    exit_on_user_error(main)
