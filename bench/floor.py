"""The single-process floor: the work of one product's pipeline in one Python process.

Generates the same data, fits the same model (the default model behind the feature pipeline),
logs the same params, metrics and model, and registers it, with no `mlflow run`, no step
processes, no cache, no baselines, pictures or champion gate.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import mlflow

from grocery.config import load_config, pinned_requirements
from grocery.dataset import DATE, TARGET, generate_sales, split_sales
from grocery.modeling import build_pipeline, regression_metrics, resolve_hyperparameters
from grocery.signature import raw_columns_signature
from steps.train import MODEL_CODE, PACKAGE_DIR


def main(product_name: str) -> None:
    config = load_config()
    product, choice = config.product(product_name), config.model(config.default_model)
    mlflow.set_experiment(product.experiment)
    with mlflow.start_run(), tempfile.TemporaryDirectory() as folder:
        sales = generate_sales(config.generators[product.name], 1000, "2023-10-03", 9999)
        train, validation = split_sales(sales, 0.2)
        params = resolve_hyperparameters(choice, {})
        model = build_pipeline(choice, params, train, TARGET, DATE).fit(train, train[TARGET])
        predictions = model.predict(validation)
        mlflow.log_params(model.named_steps["model"].get_params())
        mlflow.log_metrics(regression_metrics(validation[TARGET].to_numpy(), predictions))
        code = Path(folder) / PACKAGE_DIR.name
        code.mkdir()
        for file in MODEL_CODE:
            (code / file).write_bytes((PACKAGE_DIR / file).read_bytes())
        info = mlflow.sklearn.log_model(
            model, name="model", signature=raw_columns_signature(validation, predictions, TARGET),
            input_example=validation.head(5), pip_requirements=pinned_requirements(),
            code_paths=[str(code)], serialization_format="skops",
            skops_trusted_types=config.trusted_types(choice),
        )
        mlflow.register_model(info.model_uri, product.registered_model)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "apples")
