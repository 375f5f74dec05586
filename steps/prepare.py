"""prepare: generate one product's daily sales, split them, and log both halves as datasets."""

from __future__ import annotations

import argparse

import mlflow

from grocery.artifacts import TRAIN_FILE, VALIDATION_FILE, dataset_source, log_prepared
from grocery.catalog import TAG_DATA_DIGEST, load_catalog
from grocery.dataset import combined_digest, content_digest, generate_sales, split_sales
from grocery.errors import exit_on_user_error
from grocery.tracking import run_location, step_run


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--product", required=True)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--end-date", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--validation-fraction", type=float, required=True)
    parser.add_argument("--split", required=True)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    product = load_catalog().product(args.product)
    with step_run("prepare", product) as run:
        sales = generate_sales(product, args.rows, args.end_date, args.seed)
        train, validation = split_sales(sales, args.validation_fraction, args.split)

        digests = {"training": content_digest(train), "validation": content_digest(validation)}
        data_digest = combined_digest(digests["training"], digests["validation"])
        data_uri = log_prepared(
            train,
            validation,
            {
                "product": product.name,
                "department": product.department,
                "prepare_run_id": run.info.run_id,
                "data_digest": data_digest,
                "digests": digests,
            },
        )
        for context, frame, file in (
            ("training", train, TRAIN_FILE),
            ("validation", validation, VALIDATION_FILE),
        ):
            dataset = mlflow.data.from_pandas(
                frame,
                source=dataset_source(data_uri, file),
                targets="demand",
                name=f"{product.name}-{context}",
                digest=digests[context],
            )
            mlflow.log_input(dataset, context=context)
        mlflow.set_tag(TAG_DATA_DIGEST, data_digest)
        mlflow.log_metrics({"train_rows": len(train), "validation_rows": len(validation)})
        print(f"{product.name} prepare: run {run.info.run_id}, {len(train)} train + "
              f"{len(validation)} validation rows, digest {data_digest} ({run_location(run)}); "
              f"data at {data_uri}")


if __name__ == "__main__":
    exit_on_user_error(main)
