"""prepare: one product's sales, split, and logged as train and validation datasets.

The sales are the catalog's synthetic ones or, with ``data``, the user's own daily or weekly
.csv or .parquet table (grocery/own_data.py), checked before anything is logged: a problem ends
the run FAILED with one line naming the file and the problem. Validation is the backtest's
forecast days (the last ``folds`` x ``horizon`` rows), or the tutorial's random rows with
``split=random``; the run records which columns are known ahead and which only observed.
"""

from __future__ import annotations

import argparse

from grocery import prepared
from grocery.capacity import check_rows
from grocery.config import load_config
from grocery.dataset import DATE, TARGET, split_synthetic_sales
from grocery.errors import exit_on_user_error
from grocery.experiments import data_schema
from grocery.names import PREPARE, TAG_DATA_DIGEST
from grocery.own_data import forecast_task, known_product, prepared_product, split_own_table
from grocery.roles import parse_columns
from grocery.step_run import step_run
from grocery.tracking import run_location


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, allow_abbrev=False)
    for name, kind in (("product", str), ("rows", int), ("end-date", str), ("seed", int),
                       ("validation-fraction", float), ("split", str), ("horizon", int),
                       ("folds", int), ("stores", int)):
        parser.add_argument(f"--{name}", type=kind, required=True)
    for name, default in (("data", ""), ("target", TARGET), ("date-column", DATE),
                          ("department", ""), ("known-ahead", ""), ("series", "")):
        parser.add_argument(f"--{name}", default=default)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    config = load_config()
    known = known_product(config, args.product, args.data, args.department)
    tags = prepared.source_tags(known, args.data, args.target, args.date_column) if known else None
    with step_run(PREPARE, known, tags) as step:
        product = prepared_product(config, args.product, args.data, args.department,
                                   args.target, args.date_column, args.known_ahead)
        known_ahead = (parse_columns(args.known_ahead) if args.data
                       else config.synthetic_known_ahead)
        holdout = args.folds * args.horizon if args.split == "time" else None
        if not args.data:
            check_rows(args.rows * args.stores, f"stores={args.stores} x rows={args.rows}")
        sales = (split_own_table(args.data, args.target, args.date_column,
                                 args.validation_fraction, args.split, args.horizon, args.folds,
                                 known_ahead, parse_columns(args.series)) if args.data else
                 split_synthetic_sales(config.generators[product.name], args.rows, args.end_date,
                                       args.seed, args.validation_fraction, args.split, holdout,
                                       args.stores))
        check_rows(len(sales.sales), prepared.data_source(args.data))
        frequency, roles = forecast_task(sales.sales, prepared.data_source(args.data),
                                         args.target, args.date_column, args.horizon,
                                         args.folds, known_ahead, sales.series)
        record = prepared.describe(
            product, step.run_id, sales, args.data, args.target, args.date_column,
            data_schema(sales.sales, args.target, args.date_column),
            prepared.forecast_task(args.split, args.horizon, args.folds, frequency, roles))
        data_uri = prepared.log_prepared(step.run, sales.train, sales.validation, record)
        prepared.log_datasets(step.run_id, prepared.datasets(
            sales.train, sales.validation, record, data_uri, prepared.SPLIT_CONTEXTS))
        step.log(prepared.row_metrics(sales),
                 tags={TAG_DATA_DIGEST: record.data_digest, **prepared.task_tags(record)})
    # Printed once the run has ended: the line says the step finished.
    print(f"{product.name} prepare: run {step.run_id}, {len(sales.train)} train + "
          f"{len(sales.validation)} validation rows, digest {record.data_digest} "
          f"({run_location(step.run)}); data at {data_uri}")


if __name__ == "__main__":
    exit_on_user_error(main)
