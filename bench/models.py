"""Which model reaches the noise floor: every catalog model, and the tutorial's reference.

For each product and seed: 1000 synthetic days ending 2023-10-03, the last 20% as validation
(the pipeline's defaults). Each model is fitted behind the feature steps; the reference is the
tutorial's random forest on the tutorial's columns. The score is rmse_to_noise: validation rmse
over the rmse of the generator's realized noise on the same rows (1.00 = as good as the data
allows). Prints the table of medians over seeds and writes it to docs/benchmarks.md.

    .venv/bin/python -m bench.models [seeds...]
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np
import pandas as pd

from bench.report import machine, table, write_section
from grocery.config import load_config
from grocery.dataset import (
    DATE,
    TARGET,
    features_and_target,
    noise_floor,
    simulate_sales,
    split_sales,
)
from grocery.modeling import (
    build_estimator,
    build_model,
    regression_metrics,
    resolve_hyperparameters,
)

REFERENCE = "random_forest, tutorial's columns"
DEFAULT_SEEDS = (9999, 1, 2)


def scores(seeds: tuple[int, ...]) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """{model: {product: median rmse_to_noise}} and {model: median seconds to fit}."""
    catalog = load_config()
    ratios: dict[str, dict[str, list[float]]] = {}
    seconds: dict[str, list[float]] = {}
    for product in catalog.products.values():
        for seed in seeds:
            generator = catalog.generators[product.name]
            frame, noise = simulate_sales(generator, 1000, "2023-10-03", seed)
            train, validation = split_sales(frame, 0.2)
            floor = noise_floor(noise, validation.index)
            actual = validation[TARGET].to_numpy()
            for name in (REFERENCE, *catalog.models):
                start = time.perf_counter()
                predictions = _fit_predict(name, train, validation)
                seconds.setdefault(name, []).append(time.perf_counter() - start)
                rmse = regression_metrics(actual, predictions)["rmse"]
                ratios.setdefault(name, {}).setdefault(product.name, []).append(rmse / floor)
    medians = {name: {p: statistics.median(v) for p, v in by_product.items()}
               for name, by_product in ratios.items()}
    return medians, {name: statistics.median(v) for name, v in seconds.items()}


def _fit_predict(name: str, train: pd.DataFrame, validation: pd.DataFrame) -> np.ndarray:
    """Validation forecasts of a catalog model (or of the tutorial's reference)."""
    catalog = load_config()
    if name == REFERENCE:
        choice = catalog.model("random_forest")
        x_train, y_train = features_and_target(train)
        x_val, _ = features_and_target(validation)
        estimator = build_estimator(choice, resolve_hyperparameters(choice, {}))
        return estimator.fit(x_train, y_train).predict(x_val)
    choice = catalog.model(name)
    model = build_model(choice, resolve_hyperparameters(choice, {}), train, TARGET, DATE)
    return model.fit(train, train[TARGET]).predict(validation)


def main(seeds: tuple[int, ...]) -> None:
    medians, seconds = scores(seeds)
    products = list(load_config().products)
    header = ["model", *products, "worst", "mean", "fit s"]
    rows = []
    for name, by_product in medians.items():
        values = [by_product[p] for p in products]
        rows.append([name, *(f"{v:.3f}" for v in values), f"{max(values):.3f}",
                     f"{statistics.mean(values):.3f}", f"{seconds[name]:.2f}"])
    best = min((name for name in medians if name != REFERENCE),
               key=lambda name: statistics.mean(medians[name].values()))
    default = load_config().default_model
    text = table(header, rows)
    print(text)
    print(f"lowest mean rmse_to_noise: {best}; catalog default_model: {default}")
    verdict = ("it is the catalog's `default_model`" if best == default else
               f"**the catalog's `default_model` is {default}: change it**")
    write_section("models", f"""## Models: rmse_to_noise on the synthetic catalog

`.venv/bin/python -m bench.models {' '.join(map(str, seeds))}`: per product, 1000 days ending
2023-10-03, last 20% as validation, seeds {', '.join(map(str, seeds))} (median over seeds).
rmse_to_noise = validation rmse / rmse of the generator's realized noise on the same rows
(1.00 = the noise floor; goal <= 1.05 with the default model). Every catalog model runs behind
the feature steps (calendar features, lags, imputation, encoding); the first row is the
tutorial's random forest on the tutorial's columns, for reference. "fit s" is the median time to
fit and predict one product. Machine: {machine()}.

{text}

Lowest mean: **{best}**; {verdict}.""")


if __name__ == "__main__":
    main(tuple(int(s) for s in sys.argv[1:]) or DEFAULT_SEEDS)
