"""The single-process floor: the work of one product's pipeline in one Python process.

Prepares the same data (synthetic sales, the backtest's days as validation, frequency and
column roles), judges the default model by the same rolling-origin backtest against the same
baselines, fits it on all the data, logs the same prepared data, dataset inputs, params, metrics,
pictures and forecaster model, and registers it, with no `mlflow run`, no step processes and no
cache. (The champion gate of a product's first version compares with nothing.)

    .venv/bin/python -m bench.floor [product]
"""

from __future__ import annotations

import sys

import mlflow
from mlflow.tracking import MlflowClient

from grocery import training
from grocery.config import Config, Product, load_config
from grocery.dataset import DATE, TARGET, SplitSales, split_synthetic_sales
from grocery.evaluation import backtest_metrics, run_backtest
from grocery.experiments import data_schema
from grocery.forecaster import fit_forecaster
from grocery.modeling import resolve_hyperparameters
from grocery.own_data import forecast_task
from grocery.prepared import (
    EVALUATION,
    PreparedData,
    datasets,
    describe,
    full_table,
    log_datasets,
    log_prepared,
)
from grocery.prepared import forecast_task as task_fields
from grocery.step_run import StepRecord
from grocery.trained_record import log_trained

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
    client = MlflowClient()
    # The run as a step has it (grocery/step_run.py): made, written by its id, ended.
    run = client.create_run(mlflow.set_experiment(product.experiment).experiment_id)
    sales, record = prepare(config, product, run_id=run.info.run_id)
    table = full_table(sales.train, sales.validation, record)
    spec = training.forecast_spec(record, config.forecast_strategy)
    params = resolve_hyperparameters(choice, {})
    backtest = run_backtest(choice, params, table, spec, record.folds)
    metrics = backtest_metrics(backtest, training.noise_floor_of(record))
    model = fit_forecaster(choice, params, table, spec)
    inputs = datasets(sales.train, sales.validation, record,
                      log_prepared(run, sales.train, sales.validation, record))
    log_datasets(run.info.run_id, inputs)
    step = StepRecord(run, {})
    info = log_trained(step, model, backtest, metrics, table, spec, choice, product.name,
                       params, config.trusted_types(choice), inputs[EVALUATION])
    step.flush()
    client.set_terminated(run.info.run_id)
    mlflow.register_model(info.model_uri, product.registered_model)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "apples")
