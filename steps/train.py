"""train: fit one model on a prepare run's data, score it on validation, and log it.

The model is the catalog's estimator behind the feature pipeline (grocery/features.py), so the
logged model takes the table's raw columns. Besides mae/mse/rmse/r2 the run logs two naive
baselines and the improvement over the better one, ``rmse_to_noise`` when the data is synthetic
(its noise is known), and three evaluation pictures. Hyperparameters not declared in MLproject
arrive as extra ``--name value`` pairs and override the catalog's defaults for the chosen model.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import mlflow

from grocery.artifacts import TRAIN_FILE, VALIDATION_FILE, dataset_source
from grocery.cli import extra_params
from grocery.config import load_config, pinned_requirements
from grocery.errors import exit_on_user_error
from grocery.names import (
    TAG_DATA_DIGEST,
    TAG_DATE_COLUMN,
    TAG_DEPARTMENT,
    TAG_HYPERPARAMETERS,
    TAG_MODEL_FAMILY,
    TAG_MODEL_URI,
    TAG_PREPARE_RUN,
    TAG_PRODUCT,
    TAG_TARGET,
)
from grocery.tracking import run_location, step_run

MODEL_NAME = "model"  # the logged model's name within the run
PACKAGE_DIR = Path(__file__).resolve().parent.parent / "grocery"
# The project code a loaded model needs (its feature step), bundled with the model.
MODEL_CODE = ("__init__.py", "features.py")
PLOTS_DIR = "evaluation"


def parse_args() -> tuple[argparse.Namespace, dict[str, str]]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", required=True)
    args, rest = parser.parse_known_args()
    return args, extra_params(rest)


def main() -> None:
    args, overrides = parse_args()
    catalog = load_config()
    choice = catalog.model(args.model)

    from grocery import plots
    from grocery.artifacts import load_prepared
    from grocery.baselines import baseline_metrics
    from grocery.dataset import DATE, TARGET
    from grocery.modeling import (
        build_pipeline,
        regression_metrics,
        resolve_hyperparameters,
        rmse_to_noise,
    )
    from grocery.signature import raw_columns_signature

    hyperparameters = resolve_hyperparameters(choice, overrides)
    with step_run("train") as run:
        train, validation, meta = load_prepared(args.data)
        target, date_column = meta.get("target", TARGET), meta.get("date_column", DATE)
        product = catalog.find_product(meta["product"], meta.get("department", ""))
        mlflow.set_tags({
            TAG_PRODUCT: product.name,
            TAG_DEPARTMENT: product.department,
            TAG_PREPARE_RUN: meta["prepare_run_id"],
            TAG_DATA_DIGEST: meta["data_digest"],
            TAG_MODEL_FAMILY: choice.family,
            TAG_TARGET: target,
            TAG_DATE_COLUMN: date_column,
            TAG_HYPERPARAMETERS: json.dumps(hyperparameters, sort_keys=True),
        })
        for context, frame, file in (
            ("training", train, TRAIN_FILE),
            ("validation", validation, VALIDATION_FILE),
        ):
            dataset = mlflow.data.from_pandas(
                frame, source=dataset_source(args.data, file), targets=target,
                name=f"{product.name}-{context}", digest=meta["digests"][context],
            )
            mlflow.log_input(dataset, context=context)

        # The model sees the whole table; the target only as history for its lags.
        model = build_pipeline(choice, hyperparameters, train, target, date_column)
        model.fit(train, train[target])
        predictions = model.predict(validation)
        actual = validation[target].to_numpy()
        metrics = regression_metrics(actual, predictions)
        metrics.update(baseline_metrics(train, validation, target, date_column, metrics["rmse"]))
        if meta.get("noise_floor"):
            metrics["noise_floor"] = meta["noise_floor"]
            metrics["rmse_to_noise"] = rmse_to_noise(metrics["rmse"], meta["noise_floor"])

        already = run.data.params
        estimator_params = model.named_steps["model"].get_params()
        mlflow.log_params({k: v for k, v in estimator_params.items() if k not in already})
        mlflow.log_metrics(metrics)

        title = f"{product.name}, {choice.name}"
        mlflow.log_figure(plots.predicted_vs_actual(actual, predictions, title),
                          f"{PLOTS_DIR}/predicted_vs_actual.png")
        mlflow.log_figure(
            plots.residuals_over_time(validation[date_column], actual, predictions, title),
            f"{PLOTS_DIR}/residuals_over_time.png")
        figure, importance = plots.feature_importance(
            model, validation, validation[target], title,
            labels={target: f"{target} (its lags)", date_column: f"{date_column} (calendar)"})
        mlflow.log_figure(figure, f"{PLOTS_DIR}/permutation_importance.png")
        mlflow.log_dict(importance, f"{PLOTS_DIR}/permutation_importance.json")

        with tempfile.TemporaryDirectory() as folder:
            code = Path(folder) / PACKAGE_DIR.name
            code.mkdir()
            for file in MODEL_CODE:
                shutil.copy(PACKAGE_DIR / file, code / file)
            model_info = mlflow.sklearn.log_model(
                model,
                name=MODEL_NAME,
                signature=raw_columns_signature(validation, predictions, target),
                input_example=validation.head(5),
                pip_requirements=pinned_requirements(),
                code_paths=[str(code)],
                serialization_format="skops",
                skops_trusted_types=[*choice.skops_trusted_types,
                                     *load_config().feature_trusted_types],
            )
        mlflow.set_tag(TAG_MODEL_URI, model_info.model_uri)
        noise = (f" rmse_to_noise {metrics['rmse_to_noise']:.3f}"
                 if "rmse_to_noise" in metrics else "")
        print(f"{product.name} train: run {run.info.run_id}, {choice.name} rmse "
              f"{metrics['rmse']:.2f} mae {metrics['mae']:.2f} r2 {metrics['r2']:.3f}{noise}, "
              f"{metrics['improvement_over_baseline']:.1%} better than the best naive baseline "
              f"({run_location(run)})")


if __name__ == "__main__":
    exit_on_user_error(main)
