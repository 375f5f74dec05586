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

from grocery.config import load_config
from grocery.errors import exit_on_user_error
from grocery.forecast import model_inputs, read_table, table_format, with_predictions, write_table
from grocery.registered import input_columns, load_model, product_model_ref, resolve, version_uri
from grocery.tracking import run_location, step_run

OUTPUT_DIR = "predictions"  # the output's folder among the run's artifacts


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--product", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--model-alias", default="")
    parser.add_argument("--model-version", default="")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    product = load_config().product(args.product)
    ref = product_model_ref(product.name, alias=args.model_alias, version=args.model_version)
    with step_run("predict", product) as run:
        table_format(args.output)  # refuse a bad output name before any work
        version = resolve(MlflowClient(), ref)
        mlflow.set_tags({
            "registered_model": version.name,
            "model_version": version.version,
            "model_reference": str(ref),
            "model_uri": version_uri(version),
        })
        frame = read_table(args.input)
        inputs = model_inputs(frame, input_columns(version))  # checked before the model loads
        predictions = load_model(version).predict(inputs)
        written = write_table(with_predictions(frame, predictions), Path(args.output).resolve())
        mlflow.log_artifact(str(written), OUTPUT_DIR)
        mlflow.log_metric("rows", len(frame))
        print(f"{product.name} predict: run {run.info.run_id}, {len(frame)} rows with "
              f"{version.name} v{version.version} ({ref}) -> {written} ({run_location(run)})")


if __name__ == "__main__":
    exit_on_user_error(main)
