"""The single-process floor: the work of one product's pipeline in one Python process.

Prepares the same data (synthetic sales, the backtest's days as validation, frequency and
column roles), judges the default model by the same rolling-origin backtest against the same
baselines, fits it on all the data, logs the same params, metrics and forecaster model, and
registers it, with no `mlflow run`, no step processes, no cache, no dataset inputs, pictures or
champion gate.

    .venv/bin/python -m bench.floor [product]
"""

from __future__ import annotations

import sys

import mlflow

from grocery import training
from grocery.config import Config, Product, load_config
from grocery.dataset import DATE, TARGET, SplitSales, split_synthetic_sales
from grocery.evaluation import backtest_metrics, run_backtest
from grocery.experiments import data_schema
from grocery.forecaster import fit_forecaster
from grocery.logged_forecaster import log_forecaster
from grocery.modeling import resolve_hyperparameters
from grocery.own_data import forecast_task
from grocery.prepared import PreparedData, describe
from grocery.prepared import forecast_task as task_fields

# The pipeline's defaults (MLproject's prepare parameters).
ROWS, END_DATE, SEED, HORIZON, FOLDS = 1000, "2023-10-03", 9999, 14, 5


def prepare(config: Config, product: Product, seed: int = SEED, run_id: str = "",
            horizon: int = HORIZON, folds: int = FOLDS) -> tuple[SplitSales, PreparedData]:
    """What prepare makes of a catalog product: its split sales and their record."""
    sales = split_synthetic_sales(config.generators[product.name], ROWS, END_DATE, seed, 0.2,
                                  "time", folds * horizon)
    frequency, roles = forecast_task(sales.sales, "synthetic", TARGET, DATE, horizon, folds,
                                     config.synthetic_known_ahead)
    record = describe(product, run_id, sales, "", TARGET, DATE,
                      data_schema(sales.sales, TARGET, DATE),
                      task_fields("time", horizon, folds, frequency, roles))
    return sales, record


def main(product_name: str) -> None:
    config = load_config()
    product, choice = config.product(product_name), config.model(config.default_model)
    mlflow.set_experiment(product.experiment)
    with mlflow.start_run() as run:
        sales, record = prepare(config, product, run_id=run.info.run_id)
        table = training.full_table(sales.train, sales.validation, record)
        spec = training.forecast_spec(record, config.forecast_strategy)
        params = resolve_hyperparameters(choice, {})
        backtest = run_backtest(choice, params, table, spec, record.folds)
        metrics = backtest_metrics(backtest, training.noise_floor_of(record))
        model = fit_forecaster(choice, params, table, spec)
        training.log_estimator_params(model, {})
        mlflow.log_metrics(metrics)
        training.log_by_horizon(backtest)
        info = log_forecaster(model, backtest.calibration, spec, table,
                              config.trusted_types(choice))
        mlflow.register_model(info.model_uri, product.registered_model)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "apples")
