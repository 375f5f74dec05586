"""The single-process floor: the work of one product's pipeline in one Python process.

Generates the same data, fits the same model (the default model behind the feature steps),
logs the same params, metrics and model, and registers it, with no `mlflow run`, no step
processes, no cache, no baselines, pictures or champion gate.
"""

from __future__ import annotations

import sys

import mlflow

from grocery.config import load_config
from grocery.dataset import DATE, TARGET, generate_sales, split_sales
from grocery.features import ESTIMATOR_STEP
from grocery.modeling import build_model, regression_metrics, resolve_hyperparameters
from grocery.training import log_model


def main(product_name: str) -> None:
    config = load_config()
    product, choice = config.product(product_name), config.model(config.default_model)
    mlflow.set_experiment(product.experiment)
    with mlflow.start_run():
        sales = generate_sales(config.generators[product.name], 1000, "2023-10-03", 9999)
        train, validation = split_sales(sales, 0.2)
        params = resolve_hyperparameters(choice, {})
        model = build_model(choice, params, train, TARGET, DATE).fit(train, train[TARGET])
        predictions = model.predict(validation)
        mlflow.log_params(model.named_steps[ESTIMATOR_STEP].get_params())
        mlflow.log_metrics(regression_metrics(validation[TARGET].to_numpy(), predictions))
        info = log_model(model, validation, predictions, TARGET, config.trusted_types(choice))
        mlflow.register_model(info.model_uri, product.registered_model)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "apples")
