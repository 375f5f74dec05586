"""predict: forecast the rows of a .csv or .parquet file with a product's registered model.

The model is ``models:/grocery-forecasting-<product>@<model_alias>``, or ``/<model_version>``
when one is given. The input must carry the model's signature columns (extra columns are kept);
the output is the input plus a ``prediction`` column, written to ``output`` and logged.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

from grocery import registry
from grocery.config import load_config
from grocery.errors import exit_on_user_error
from grocery.model_inputs import model_inputs, with_predictions
from grocery.names import PREDICT, TAG_MODEL_URI
from grocery.parameters import PRODUCT_PARAM
from grocery.tables import read_table, table_kind, write_table
from grocery.tracking import run_location, step_run

OUTPUT_DIR = "predictions"  # the output's folder among the run's artifacts


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    for name in (PRODUCT_PARAM, "input", "output"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--model-alias", default="")
    parser.add_argument("--model-version", default="")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    product = load_config().product(args.product)
    ref = registry.product_model_ref(product.name, args.model_alias, args.model_version)
    with step_run(PREDICT, product) as run:
        table_kind(args.output)  # refuse a bad output name before any work
        version = registry.resolve(MlflowClient(), ref)
        mlflow.set_tags({**registry.reference_tags(version, ref),
                         TAG_MODEL_URI: registry.version_uri(version)})
        frame = read_table(args.input)
        # The columns are checked against the signature before the model loads.
        inputs = model_inputs(frame, registry.input_columns(version))
        predictions = registry.load_model(version).predict(inputs)
        written = write_table(with_predictions(frame, predictions), Path(args.output).resolve())
        mlflow.log_artifact(str(written), OUTPUT_DIR)
        mlflow.log_metric("rows", len(frame))
        print(f"{product.name} predict: run {run.info.run_id}, {len(frame)} rows with "
              f"{version.name} v{version.version} ({ref}) -> {written} ({run_location(run)})")


if __name__ == "__main__":
    exit_on_user_error(main)
