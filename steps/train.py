"""train: judge one forecaster by a rolling-origin backtest, then fit it on all the data and log it.

At each of ``folds`` origins at the end of the prepared data the model is refitted on the days
before the origin and forecasts the next ``horizon`` days from what is known at the origin; the
naive, seasonal-naive and ETS baselines forecast the same days. The run logs the scores over all
folds (rmse, mae, mase, rmsse, interval coverage), per horizon as metric histories, the
baselines', pictures, and the final model (grocery/logged_forecaster.py). On the tutorial's
random split the tutorial's ex-post mae/mse/rmse/r2 keep their names. Hyperparameters not
declared in MLproject arrive as extra ``--name value`` pairs and override the catalog's.
"""

from __future__ import annotations

import argparse

from grocery import training
from grocery.capacity import check_rows
from grocery.config import load_config
from grocery.engines import chunk_mapper
from grocery.errors import exit_on_user_error
from grocery.evaluation import backtest_metrics, run_backtest, series_metrics
from grocery.forecaster import check_series_model, fit_forecaster
from grocery.modeling import resolve_hyperparameters
from grocery.names import GLOBAL, LOCAL, TRAIN
from grocery.parameters import extra_params
from grocery.prepared import EVALUATION, datasets, full_table, load_prepared, log_datasets
from grocery.series import series_count
from grocery.step_run import step_run
from grocery.tracking import run_location
from grocery.trained_record import log_trained


def parse_args() -> tuple[argparse.Namespace, dict[str, str]]:
    parser = argparse.ArgumentParser(description=__doc__, allow_abbrev=False)
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", required=True)
    for name, default in (("series-model", GLOBAL), ("engine", LOCAL), ("ray-address", "")):
        parser.add_argument(f"--{name}", default=default)
    args, rest = parser.parse_known_args()
    return args, extra_params(rest)


def main() -> None:
    args, overrides = parse_args()
    config = load_config()
    choice = config.model(args.model)
    params = resolve_hyperparameters(choice, overrides)
    with step_run(TRAIN) as step:
        train, validation, prepared = load_prepared(args.data)
        product = config.find_product(prepared.product, prepared.department)
        spec = training.forecast_spec(prepared, config.forecast_strategy, args.series_model)
        check_series_model(spec)
        step.log(tags=training.run_tags(product, prepared, choice, params, spec))
        inputs = datasets(train, validation, prepared, args.data)
        log_datasets(step.run_id, inputs)
        table = full_table(train, validation, prepared)
        check_rows(len(table), f"the prepared data of {product.name}")
        mapper = chunk_mapper(args.engine, args.ray_address, series_count(table, spec.series),
                              prepared.folds)

        backtest = run_backtest(choice, params, table, spec, prepared.folds, mapper)
        tutorial = (training.tutorial_metrics(choice, params, train, validation, prepared)
                    if prepared.split == "random" else None)
        metrics = training.run_metrics(
            backtest_metrics(backtest, training.noise_floor_of(prepared)), tutorial)
        per_series, chain = series_metrics(backtest, table, spec)
        metrics.update(chain)
        model = fit_forecaster(choice, params, table, spec, mapper)

        log_trained(step, model, backtest, metrics, table, spec, choice,
                    product.name, params, config.trusted_types(choice), inputs[EVALUATION],
                    per_series)
    # Printed once the run has ended: the line says the step finished.
    print(f"{product.name} train: run {step.run_id}, "
          f"{training.summary(choice.name, metrics)} ({run_location(step.run)})")


if __name__ == "__main__":
    exit_on_user_error(main)
