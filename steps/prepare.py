"""prepare: one product's daily sales, split, and logged as train and validation datasets.

The sales are the catalog's synthetic ones, or, with ``data``, the user's own table (CSV or
Parquet: a path, ``file://``, ``http(s)://`` or ``runs:/`` URI), checked before anything is
logged: a problem ends the run FAILED with one line naming the file and the problem.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import mlflow
import pandas as pd

from grocery.artifacts import (
    TRAIN_FILE,
    VALIDATION_FILE,
    dataset_source,
    fetch_data,
    log_prepared,
)
from grocery.config import Config, Product, load_config
from grocery.dataset import (
    DATE,
    TARGET,
    combined_digest,
    content_digest,
    noise_floor,
    simulate_sales,
    split_sales,
)
from grocery.errors import UserError, exit_on_user_error
from grocery.experiments import data_schema
from grocery.names import (
    TAG_DATA_DIGEST,
    TAG_DATA_SOURCE,
    TAG_DATE_COLUMN,
    TAG_DEPARTMENT,
    TAG_PRODUCT,
    TAG_TARGET,
)
from grocery.tracking import run_location, step_run
from grocery.validation import read_sales, validate_sales

SYNTHETIC = "synthetic"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--product", required=True)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--end-date", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--validation-fraction", type=float, required=True)
    parser.add_argument("--split", required=True)
    parser.add_argument("--data", default="")
    parser.add_argument("--target", default=TARGET)
    parser.add_argument("--date-column", default=DATE)
    parser.add_argument("--department", default="")
    return parser.parse_args()


def own_sales(args: argparse.Namespace) -> pd.DataFrame:
    """The user's table, read and checked (a UserError names the file and the problem)."""
    with tempfile.TemporaryDirectory(prefix="grocery-data-") as folder:
        frame = read_sales(fetch_data(args.data, Path(folder)), args.data)
    return validate_sales(frame, args.data, args.target, args.date_column,
                          args.validation_fraction, args.split)


def known_product(catalog: Config, args: argparse.Namespace) -> Product | None:
    """The product if its name is valid (the run is tagged and hinted with it), else None: the
    error is raised inside the run, so that the run records it."""
    try:
        return catalog.find_product(args.product, args.department) if args.data else (
            catalog.products.get(args.product))
    except UserError:
        return None


def main() -> None:
    args = parse_args()
    catalog = load_config()
    with step_run("prepare", known_product(catalog, args)) as run:
        if args.data:
            product = catalog.find_product(args.product, args.department)
        else:
            product = catalog.product(args.product)
            if (args.target, args.date_column, args.department) != (TARGET, DATE, ""):
                raise UserError("target, date_column and department apply to your own data "
                                "only; pass -P data=<csv or parquet file>")
        mlflow.set_tags({TAG_PRODUCT: product.name, TAG_DEPARTMENT: product.department,
                         TAG_TARGET: args.target, TAG_DATE_COLUMN: args.date_column,
                         TAG_DATA_SOURCE: args.data or SYNTHETIC})

        floor = None
        if args.data:
            sales = own_sales(args)
            train, validation = split_sales(sales, args.validation_fraction, args.split,
                                            args.date_column)
        else:
            sales, noise = simulate_sales(catalog.generators[product.name], args.rows,
                                          args.end_date, args.seed)
            train, validation = split_sales(sales, args.validation_fraction, args.split)
            floor = noise_floor(noise, validation.index)

        digests = {"training": content_digest(train), "validation": content_digest(validation)}
        data_digest = combined_digest(digests["training"], digests["validation"])
        meta = {
            "product": product.name,
            "department": product.department,
            "prepare_run_id": run.info.run_id,
            "data_digest": data_digest,
            "digests": digests,
            "source": args.data or SYNTHETIC,
            "target": args.target,
            "date_column": args.date_column,
            "schema": data_schema(sales, args.target, args.date_column),
        }
        if floor is not None:
            # What no model can beat on these validation rows: the generator's own noise.
            meta["noise_floor"] = floor
        data_uri = log_prepared(train, validation, meta)
        for context, frame, file in (
            ("training", train, TRAIN_FILE),
            ("validation", validation, VALIDATION_FILE),
        ):
            dataset = mlflow.data.from_pandas(
                frame,
                source=dataset_source(data_uri, file),
                targets=args.target,
                name=f"{product.name}-{context}",
                digest=digests[context],
            )
            mlflow.log_input(dataset, context=context)
        mlflow.set_tag(TAG_DATA_DIGEST, data_digest)
        metrics = {"train_rows": len(train), "validation_rows": len(validation)}
        if floor is not None:
            metrics["noise_floor"] = floor
        mlflow.log_metrics(metrics)
        print(f"{product.name} prepare: run {run.info.run_id}, {len(train)} train + "
              f"{len(validation)} validation rows, digest {data_digest} ({run_location(run)}); "
              f"data at {data_uri}")


if __name__ == "__main__":
    exit_on_user_error(main)
