"""train: fit one model on a prepare run's data, score it on validation, and log it.

Hyperparameters not declared in MLproject arrive as extra ``--name value`` pairs and override
the catalog's defaults for the chosen model.
"""

from __future__ import annotations

import argparse
import json

import mlflow
from mlflow.models import infer_signature

from grocery.artifacts import TRAIN_FILE, VALIDATION_FILE, dataset_source
from grocery.catalog import (
    TAG_DATA_DIGEST,
    TAG_DEPARTMENT,
    TAG_HYPERPARAMETERS,
    TAG_MODEL_URI,
    TAG_PREPARE_RUN,
    TAG_PRODUCT,
    load_catalog,
)
from grocery.cli import extra_params
from grocery.errors import exit_on_user_error
from grocery.requirements import pinned_requirements
from grocery.tracking import run_location, step_run

MODEL_NAME = "model"  # the logged model's name within the run


def parse_args() -> tuple[argparse.Namespace, dict[str, str]]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", required=True)
    args, rest = parser.parse_known_args()
    return args, extra_params(rest)


def main() -> None:
    args, overrides = parse_args()
    catalog = load_catalog()
    choice = catalog.model(args.model)

    from grocery.artifacts import load_prepared
    from grocery.dataset import features_and_target
    from grocery.modeling import build_estimator, regression_metrics, resolve_hyperparameters

    hyperparameters = resolve_hyperparameters(choice, overrides)
    with step_run("train") as run:
        train, validation, meta = load_prepared(args.data)
        product = catalog.product(meta["product"])
        mlflow.set_tags({
            TAG_PRODUCT: product.name,
            TAG_DEPARTMENT: product.department,
            TAG_PREPARE_RUN: meta["prepare_run_id"],
            TAG_DATA_DIGEST: meta["data_digest"],
            "model_family": choice.family,
            TAG_HYPERPARAMETERS: json.dumps(hyperparameters, sort_keys=True),
        })
        x_train, y_train = features_and_target(train)
        x_val, y_val = features_and_target(validation)
        for context, frame, file in (
            ("training", train, TRAIN_FILE),
            ("validation", validation, VALIDATION_FILE),
        ):
            dataset = mlflow.data.from_pandas(
                frame, source=dataset_source(args.data, file), targets="demand",
                name=f"{product.name}-{context}", digest=meta["digests"][context],
            )
            mlflow.log_input(dataset, context=context)

        estimator = build_estimator(choice, hyperparameters).fit(x_train, y_train)
        predictions = estimator.predict(x_val)
        metrics = regression_metrics(y_val.to_numpy(), predictions)

        already = run.data.params
        mlflow.log_params({k: v for k, v in estimator.get_params().items() if k not in already})
        mlflow.log_metrics(metrics)
        model_info = mlflow.sklearn.log_model(
            estimator,
            name=MODEL_NAME,
            signature=infer_signature(x_val, predictions),
            input_example=x_val.head(5),
            pip_requirements=pinned_requirements(),
            serialization_format="skops",
            skops_trusted_types=list(choice.skops_trusted_types),
        )
        mlflow.set_tag(TAG_MODEL_URI, model_info.model_uri)
        print(f"{product.name} train: run {run.info.run_id}, {choice.name} rmse "
              f"{metrics['rmse']:.2f} mae {metrics['mae']:.2f} r2 {metrics['r2']:.3f} "
              f"({run_location(run)})")


if __name__ == "__main__":
    exit_on_user_error(main)
