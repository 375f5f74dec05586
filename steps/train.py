"""train: fit one model on a prepare run's data, score it on validation, and log it.

The model is the catalog's estimator behind the feature steps (grocery/features.py), so the
logged model takes the table's raw columns. Besides mae/mse/rmse/r2 the run logs two naive
baselines and the improvement over the better one, ``rmse_to_noise`` when the data is synthetic
(its noise is known), and three evaluation pictures. Hyperparameters not declared in MLproject
arrive as extra ``--name value`` pairs and override the catalog's defaults for the chosen model.
"""

from __future__ import annotations

import argparse

import mlflow

from grocery import training
from grocery.config import load_config
from grocery.errors import exit_on_user_error
from grocery.modeling import resolve_hyperparameters
from grocery.names import TAG_MODEL_URI, TRAIN
from grocery.parameters import extra_params
from grocery.prepared import load_prepared, log_datasets
from grocery.tracking import run_location, step_run


def parse_args() -> tuple[argparse.Namespace, dict[str, str]]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", required=True)
    args, rest = parser.parse_known_args()
    return args, extra_params(rest)


def main() -> None:
    args, overrides = parse_args()
    config = load_config()
    choice = config.model(args.model)
    hyperparameters = resolve_hyperparameters(choice, overrides)
    with step_run(TRAIN) as run:
        train, validation, prepared = load_prepared(args.data)
        product = config.find_product(prepared.product, prepared.department)
        mlflow.set_tags(training.run_tags(product, prepared, choice, hyperparameters))
        log_datasets(train, validation, prepared, args.data)

        model = training.fit(choice, hyperparameters, train, prepared)
        predictions, metrics = training.evaluate(model, train, validation, prepared)

        training.log_estimator_params(model, run.data.params)
        mlflow.log_metrics(metrics)
        training.log_plots(model, validation, predictions, prepared, choice.name)
        info = training.log_model(model, validation, predictions, prepared.target,
                                  config.trusted_types(choice))
        mlflow.set_tag(TAG_MODEL_URI, info.model_uri)
        print(f"{product.name} train: run {run.info.run_id}, "
              f"{training.summary(choice.name, metrics)} ({run_location(run)})")


if __name__ == "__main__":
    exit_on_user_error(main)
