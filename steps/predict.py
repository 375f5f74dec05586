"""predict: forecast with ``models:/grocery-forecasting-<product>@<model_alias>`` (or
``/<model_version>``) the days after the history in ``input`` (.csv or .parquet: history rows, then
the days to forecast with their known-ahead columns) or, without it, a catalog product's ``horizon``
days after its training data beside what then happened (``actual``); written to ``output``. A
department forecasts each of its products so, then per day their bottom-up total.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mlflow.tracking import MlflowClient

from grocery import registry
from grocery.config import load_config
from grocery.dataset import DATE
from grocery.errors import exit_on_user_error
from grocery.forecaster import FORECAST
from grocery.names import PREDICT
from grocery.parameters import PRODUCT_PARAM
from grocery.series import ACTUAL, department_total
from grocery.step_run import step_run
from grocery.tables import check_output, write_table
from grocery.tracking import log_file, run_location

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
    products = registry.predict_products(config, args.product, args.input, args.model_version)
    refs = {p.name: registry.product_model_ref(p.name, args.model_alias, args.model_version)
            for p in products}
    check_output(args.output, args.input)  # a bad output name, or the input, before any work
    with step_run(PREDICT, products[0] if len(products) == 1 else None) as step:
        forecasts, versions = {}, {}
        for name, ref in refs.items():
            forecasts[name], versions[name] = registry.product_forecast(
                MlflowClient(), config, ref, args.input)
        step.log(tags=registry.prediction_tags(versions, refs))
        forecast = (forecasts[products[0].name] if len(products) == 1 else
                    department_total(forecasts, args.product, DATE, [FORECAST, ACTUAL]))
        written = write_table(forecast, Path(args.output).resolve())
        log_file(step.run, written, OUTPUT_DIR)
        step.log({"rows": len(forecast)})
        used = ", ".join(f"{v.name} v{v.version}" for v in versions.values())
        print(f"{args.product} predict: run {step.run_id}, {len(forecast)} rows forecast with "
              f"{used} ({', '.join(map(str, refs.values()))}) -> {written} "
              f"({run_location(step.run)})")


if __name__ == "__main__":
    exit_on_user_error(main)
