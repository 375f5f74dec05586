"""The single-process floor: the work of one product's pipeline in one Python process.

Generates the same data, fits the same model, logs the same params, metrics and model, and
registers it, with no `mlflow run`, no step processes and no cache.
"""

from __future__ import annotations

import sys

import mlflow
from mlflow.models import infer_signature

from grocery.catalog import load_catalog
from grocery.dataset import features_and_target, generate_sales, split_sales
from grocery.modeling import build_estimator, regression_metrics, resolve_hyperparameters
from grocery.requirements import pinned_requirements


def main(product_name: str) -> None:
    catalog = load_catalog()
    product, choice = catalog.product(product_name), catalog.model("random_forest")
    mlflow.set_experiment(product.experiment)
    with mlflow.start_run():
        train, validation = split_sales(generate_sales(product, 1000, "2023-10-03", 9999), 0.2)
        x_train, y_train = features_and_target(train)
        x_val, y_val = features_and_target(validation)
        estimator = build_estimator(choice, resolve_hyperparameters(choice, {}))
        estimator.fit(x_train, y_train)
        predictions = estimator.predict(x_val)
        mlflow.log_params(estimator.get_params())
        mlflow.log_metrics(regression_metrics(y_val.to_numpy(), predictions))
        info = mlflow.sklearn.log_model(
            estimator, name="model", signature=infer_signature(x_val, predictions),
            input_example=x_val.head(5), pip_requirements=pinned_requirements(),
            serialization_format="skops", skops_trusted_types=list(choice.skops_trusted_types),
        )
        mlflow.register_model(info.model_uri, product.registered_model)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "apples")
