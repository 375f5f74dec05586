"""How good the forecaster is, and what its choices cost: every figure side by side in one run.

1. Every catalog product, the pipeline's defaults (1000 days ending 2023-10-03, horizon 14,
   5 folds, the catalog's default model and forecast_strategy), median over seeds: the
   backtest rmse at each step ahead h over the noise floor of the same forecast days (the rms
   of the generator's realized noise on them), held-out interval coverage, the model's MASE and
   every baseline's; each target of the issue is checked.
2. Strategy: direct against recursive on the same products, folds and seeds.
3. A real series: weekly CO2 at Mauna Loa (shipped by statsmodels), both strategies.
4. What statsmodels (the ETS baseline) costs: installed size, import time, ETS fit time.

Prints the tables and writes them to docs/benchmarks.md.

    .venv/bin/python -m bench.forecasting [--seeds 9999 1 2]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import numpy as np
import pandas as pd
from statsmodels.datasets import co2

from bench.floor import END_DATE, FOLDS, HORIZON, ROWS, SEED, prepare
from bench.report import machine, table, write_section
from grocery import training
from grocery.baseline_forecasts import BASELINES, ets
from grocery.config import Config, load_config
from grocery.dataset import DATE, TARGET, simulate_sales
from grocery.evaluation import backtest_metrics, model_backtest, run_backtest, scores
from grocery.forecaster import ForecastSpec, fit_forecaster
from grocery.frequency import DAILY, WEEKLY
from grocery.modeling import resolve_hyperparameters
from grocery.names import STRATEGIES
from grocery.prepared import PreparedData, full_table
from grocery.scoring import metrics_by_horizon

DEFAULT_SEEDS = (9999, 1, 2)
# The targets.
MAX_RMSE_TO_NOISE = 1.05
COVERAGE_RANGE = {"coverage_80": (0.75, 0.85), "coverage_95": (0.91, 0.98)}
# A quarter of weeks: a planning horizon for weekly data, and shorter than the 52-week season,
# so the recursive strategy's seasonal lag is always an observed value.
CO2_HORIZON = 13
CO2_TARGET = "co2"
# statsmodels and what it installs that the project did not have before it.
LIBRARY_PACKAGES = ("statsmodels", "patsy", "formulaic", "narwhals", "interface_meta")
ETS_MODULE = "statsmodels.tsa.exponential_smoothing.ets"
PRE_IMPORTED = "numpy, pandas, scipy, sklearn"
ROUNDS = 3


# --- Pure helpers

def noise_by_horizon(forecasts: pd.DataFrame, noise: pd.Series) -> pd.Series:
    """The noise floor at each step ahead h: the rms of the realized noise (indexed by date) on
    the days forecast at h."""
    values = noise.reindex(pd.DatetimeIndex(forecasts["date"])).to_numpy()
    if np.isnan(values).any():
        raise ValueError("a forecast day has no realized noise")
    squares = pd.Series(values**2, index=forecasts["h"].to_numpy())
    return np.sqrt(squares.groupby(level=0).mean()).rename_axis("h")


def ratio_by_horizon(forecasts: pd.DataFrame, noise: pd.Series) -> pd.Series:
    """Backtest rmse over the noise floor at each step ahead h (1.00 = the floor)."""
    return metrics_by_horizon(forecasts)["rmse"] / noise_by_horizon(forecasts, noise)


def excess_over_floor(forecasts: pd.DataFrame, noise: pd.Series) -> float:
    """rms of (forecast - the generator's expected demand) over the noise floor, all forecasts.

    The expected demand is the actual minus its realized noise; with many forecasts, rmse over
    the floor tends to sqrt(1 + excess**2), whatever the scatter of a few draws.
    """
    values = noise.reindex(pd.DatetimeIndex(forecasts["date"])).to_numpy()
    expected = forecasts["actual"].to_numpy() - values
    miss = forecasts["forecast"].to_numpy() - expected
    return float(np.sqrt(np.mean(miss**2) / np.mean(values**2)))


def importtime_seconds(report: str, module: str) -> float:
    """Cumulative seconds of ``module``'s top-level line in ``python -X importtime``'s report."""
    line = re.compile(rf"^import time:\s+\d+ \|\s+(\d+) \| {re.escape(module)}$", re.M)
    found = line.search(report)
    if found is None:
        raise ValueError(f"{module} is not a top-level import in the report")
    return int(found.group(1)) / 1e6


def median_of(rows: list[dict[str, float]]) -> dict[str, float]:
    """The median of each key over ``rows``."""
    return {key: statistics.median(row[key] for row in rows) for key in rows[0]}


def mark(holds: bool) -> str:
    return "yes" if holds else "**no**"


# --- The catalog products

def strategy_scores(config: Config, table_: pd.DataFrame, record: PreparedData,
                    noise: pd.Series) -> dict[str, float]:
    """Per strategy: rmse_to_noise, the worst h's ratio, and the seconds to backtest the model
    and fit it on all the data (the baselines, the same for both, left out)."""
    choice = config.model(config.default_model)
    params = resolve_hyperparameters(choice, {})
    result = {}
    for strategy in STRATEGIES:
        spec = training.forecast_spec(record, strategy)
        start = time.perf_counter()
        frame = model_backtest(choice, params, table_, spec, record.folds)
        fit_forecaster(choice, params, table_, spec)
        result[f"{strategy}_seconds"] = time.perf_counter() - start
        result[f"{strategy}_rmse_to_noise"] = scores(frame)["rmse"] / record.noise_floor
        result[f"{strategy}_worst_h"] = float(ratio_by_horizon(frame, noise).max())
    return result


def product_scores(config: Config, name: str, seed: int) -> dict[str, float]:
    """One product and seed as the pipeline sees it: the backtest metrics of the default
    strategy with the rmse ratio at each h (``h1``...), and ``strategy_scores``."""
    product, choice = config.product(name), config.model(config.default_model)
    sales, record = prepare(config, product, seed)
    frame, noise = simulate_sales(config.generators[name], ROWS, END_DATE, seed)
    noise = pd.Series(noise.to_numpy(), index=pd.DatetimeIndex(frame[DATE]))
    table_ = full_table(sales.train, sales.validation, record)
    spec = training.forecast_spec(record, config.forecast_strategy)
    backtest = run_backtest(choice, resolve_hyperparameters(choice, {}), table_, spec,
                            record.folds)
    result = backtest_metrics(backtest, record.noise_floor)
    ratios = ratio_by_horizon(backtest.forecasts, noise)
    result.update({f"h{h}": float(value) for h, value in ratios.items()})
    result["excess"] = excess_over_floor(backtest.forecasts, noise)
    return {**result, **strategy_scores(config, table_, record, noise)}


def catalog_scores(config: Config, seeds: tuple[int, ...]) -> dict[str, dict[str, float]]:
    """{product: the median over seeds of every figure of ``product_scores``}."""
    medians = {}
    for name in config.products:
        medians[name] = median_of([product_scores(config, name, seed) for seed in seeds])
        print(f"{name}: rmse_to_noise {medians[name]['rmse_to_noise']:.3f}", flush=True)
    return medians


def horizon_table(medians: dict[str, dict[str, float]]) -> tuple[str, int, int]:
    """Products by h: rmse over the noise floor; how many cells exceed the target, of how many."""
    horizons = sorted(int(k[1:]) for k in next(iter(medians.values())) if re.fullmatch(r"h\d+", k))
    rows, above = [], 0
    for name, m in medians.items():
        values = [m[f"h{h}"] for h in horizons]
        above += sum(v > MAX_RMSE_TO_NOISE for v in values)
        rows.append([name, *(f"{v:.2f}" for v in values), f"{max(values):.3f}",
                     f"h{horizons[int(np.argmax(values))]}"])
    header = ["product", *(f"h{h}" for h in horizons), "worst", "at"]
    return table(header, rows), above, len(horizons) * len(medians)


def target_table(medians: dict[str, dict[str, float]]) -> tuple[str, dict[str, bool]]:
    """Products: rmse_to_noise, coverage, MASE against each baseline's, and the targets."""
    rows, holds = [], {"coverage": True, "mase": True}
    for name, m in medians.items():
        covered = all(low <= m[key] <= high for key, (low, high) in COVERAGE_RANGE.items())
        baselines = [m[f"baseline_{b}_mase"] for b in BASELINES]
        beats = m["mase"] < min(baselines)
        holds["coverage"] &= covered
        holds["mase"] &= beats
        rows.append([name, f"{m['rmse_to_noise']:.3f}", f"{m['excess']:.3f}",
                     f"{m['coverage_80']:.3f}",
                     f"{m['coverage_95']:.3f}", mark(covered), f"{m['mase']:.3f}",
                     *(f"{v:.3f}" for v in baselines), mark(beats)])
    header = ["product", "rmse_to_noise", "excess", "coverage_80", "coverage_95",
              "coverage in range", "mase", *(f"{b} mase" for b in BASELINES), "mase below all"]
    return table(header, rows), holds


def strategy_table(medians: dict[str, dict[str, float]]) -> tuple[str, dict[str, float]]:
    """Products by strategy: rmse_to_noise, worst h, seconds; and each strategy's mean."""
    rows = []
    for name, m in medians.items():
        rows.append([name, *(f"{m[f'{s}_rmse_to_noise']:.3f}" for s in STRATEGIES),
                     *(f"{m[f'{s}_worst_h']:.3f}" for s in STRATEGIES),
                     *(f"{m[f'{s}_seconds']:.2f}" for s in STRATEGIES)])
    means = {s: statistics.mean(m[f"{s}_rmse_to_noise"] for m in medians.values())
             for s in STRATEGIES}
    seconds = {s: statistics.mean(m[f"{s}_seconds"] for m in medians.values())
               for s in STRATEGIES}
    rows.append(["mean", *(f"{means[s]:.3f}" for s in STRATEGIES), "", "",
                 *(f"{seconds[s]:.2f}" for s in STRATEGIES)])
    header = ["product", *(f"{s} rmse_to_noise" for s in STRATEGIES),
              *(f"{s} worst h" for s in STRATEGIES), *(f"{s} s" for s in STRATEGIES)]
    return table(header, rows), {**means, **{f"{s}_seconds": seconds[s] for s in STRATEGIES}}


# --- A real series

def co2_table() -> pd.DataFrame:
    """Weekly CO2 at Mauna Loa, 1958-2001, its missing weeks filled by linear interpolation."""
    data = co2.load_pandas().data
    return pd.DataFrame({DATE: pd.DatetimeIndex(data.index),
                         CO2_TARGET: data[CO2_TARGET].interpolate(method="linear").to_numpy()})


def co2_scores(config: Config) -> tuple[dict[str, dict[str, float]], int]:
    """Per strategy, the backtest metrics on the CO2 series (calendar only, nothing known ahead),
    and how many weeks were filled."""
    choice = config.model(config.default_model)
    params = resolve_hyperparameters(choice, {})
    frame = co2_table()
    missing = int(co2.load_pandas().data[CO2_TARGET].isna().sum())
    results = {}
    for strategy in STRATEGIES:
        spec = ForecastSpec(CO2_TARGET, DATE, (), WEEKLY.season, WEEKLY.offset.days,
                            CO2_HORIZON, strategy)
        results[strategy] = backtest_metrics(run_backtest(choice, params, frame, spec, FOLDS))
    return results, missing


def co2_result_table(results: dict[str, dict[str, float]]) -> str:
    """The model (each strategy) and each baseline: rmse, mase, gain, coverage."""
    rows = []
    for strategy, m in results.items():
        rows.append([f"model, {strategy}", f"{m['rmse']:.3f}", f"{m['mase']:.3f}",
                     f"{m['improvement_over_baseline']:+.1%}", f"{m['coverage_80']:.3f}",
                     f"{m['coverage_95']:.3f}"])
    first = next(iter(results.values()))
    for name in BASELINES:
        rows.append([name, f"{first[f'baseline_{name}_rmse']:.3f}",
                     f"{first[f'baseline_{name}_mase']:.3f}", "", "", ""])
    return table(["forecast", "rmse (ppm)", "mase", "improvement over best baseline",
                  "coverage_80", "coverage_95"], rows)


# --- What statsmodels costs

def installed_mib(package: str) -> float:
    """MiB (du) of a package's folder and dist-info folder in site-packages."""
    site = Path(sysconfig.get_paths()["purelib"])
    folders = [p for p in (site / package, *site.glob(f"{package}-*.dist-info")) if p.exists()]
    done = subprocess.run(["du", "-sk", "--total", *map(str, folders)], capture_output=True,
                          text=True, check=True)
    return int(done.stdout.splitlines()[-1].split()[0]) / 1024


def import_seconds(pre_imported: str = "", rounds: int = ROUNDS) -> float:
    """Median over fresh processes of the ETS module's cumulative import time, after
    ``pre_imported`` modules if any."""
    code = f"import {pre_imported}; " if pre_imported else ""
    times = []
    for _ in range(rounds):
        done = subprocess.run([sys.executable, "-X", "importtime", "-c", f"{code}import "
                               f"{ETS_MODULE}"], capture_output=True, text=True, check=True)
        times.append(importtime_seconds(done.stderr, ETS_MODULE))
    return statistics.median(times)


def ets_fit_seconds(config: Config, rounds: int = 5) -> float:
    """Median seconds to fit ETS to 1000 daily demands and forecast 14 days."""
    name = next(iter(config.products))
    frame, _ = simulate_sales(config.generators[name], ROWS, END_DATE, SEED)
    values = frame[TARGET].to_numpy()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        ets(values, HORIZON, DAILY.season)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def library_table(config: Config) -> str:
    sizes = {name: installed_mib(name) for name in LIBRARY_PACKAGES}
    rows = [
        ["installed size (du): " + ", ".join(f"{name} {size:.1f}" for name, size in sizes.items()),
         f"{sum(sizes.values()):.1f} MiB"],
        [f"`import {ETS_MODULE}`, cold (median of {ROUNDS} processes)",
         f"{import_seconds():.2f} s"],
        [f"the same, added after `import {PRE_IMPORTED}`",
         f"{import_seconds(PRE_IMPORTED):.2f} s"],
        ["ETS fit + 14-day forecast, 1000 daily points (median of 5)",
         f"{ets_fit_seconds(config):.2f} s"],
    ]
    return table(["what", "figure"], rows)


# --- The report

def load_note(loads: list[float]) -> str:
    """Whether other work shared the machine while the figures were taken."""
    worst = max(loads)
    if worst > 1.5:
        return (f"Other work was running on the machine meanwhile (1-minute load average up to "
                f"{worst:.1f} on {os.cpu_count()} cores), so the seconds are noisy; the "
                "accuracy figures do not depend on it.")
    return (f"No other work ran meanwhile (1-minute load average at most {worst:.1f}, this "
            "benchmark included).")


def strategy_verdict(config: Config, means: dict[str, float]) -> str:
    """Which strategy the measurements favour, against catalog.yaml's choice."""
    chosen = config.forecast_strategy
    other = next(s for s in STRATEGIES if s != chosen)
    cost = means[f"{other}_seconds"] / means[f"{chosen}_seconds"]
    if means[chosen] <= means[other] * 1.005:
        return (f"catalog.yaml's `forecast_strategy` is **{chosen}**: as accurate as {other} "
                f"or more (mean rmse_to_noise {means[chosen]:.3f} against {means[other]:.3f}), "
                f"and {other} takes {cost:.1f}x its seconds.")
    return (f"**{other} is more accurate here (mean rmse_to_noise {means[other]:.3f} against "
            f"{means[chosen]:.3f}): reconsider catalog.yaml's `forecast_strategy` ({chosen})**.")


def co2_verdict(results: dict[str, dict[str, float]]) -> str:
    """Each strategy's rmse against the best baseline's on CO2."""
    first = next(iter(results.values()))
    best = min(BASELINES, key=lambda name: first[f"baseline_{name}_rmse"])
    parts = []
    for strategy, m in results.items():
        ratio = m["rmse"] / first[f"baseline_{best}_rmse"]
        parts.append(f"the {strategy} model's rmse is {ratio:.2f}x {best}'s"
                     f"{'' if ratio < 1 else ' (**it loses**)'}")
    return f"Best baseline: {best}; " + "; ".join(parts)


LIBRARIES_NOTE = """narwhals is also a dependency of scikit-learn, so the project had it before.
skforecast 0.26.0, mlforecast 1.1.0 and statsforecast 2.1.1 each require
pandas < 3 (`Requires-Dist: pandas<3.0,>=2.2`, `pandas<3.0` and `pandas<3.0.0` in their
published metadata: `pip download --no-deps <package>==<version>`, then read the wheel's
`*.dist-info/METADATA`), while the project pins pandas 3.1.1 (requirements.txt). statsmodels
0.15.0 needs no such pin, so it is the library behind the ETS baseline; the forecaster itself
is scikit-learn's."""


def co2_section(results: dict[str, dict[str, float]], missing: int) -> str:
    weeks = len(co2_table())
    return f"""### A real series: weekly CO2 at Mauna Loa

statsmodels ships `statsmodels.datasets.co2`: "{co2.DESCRSHORT.strip()}", period of record
March 1958 - December 2001, {weeks} weeks. Its source, as the dataset states: "{co2.SOURCE.strip()
.splitlines()[0]}" (Keeling and Whorf 2004, Carbon Dioxide Information Analysis Center); its
copyright note: "{co2.COPYRIGHT.strip()}" The {missing} missing weeks were filled by linear
interpolation. Weekly frequency (season 52), horizon {CO2_HORIZON} weeks (a quarter, the usual
planning horizon of weekly data, and shorter than the season, so the recursive strategy's lag
52 is always an observed week), {FOLDS} folds, the default model, no known-ahead columns (only
the calendar). Model rows use held-out coverage; the baselines forecast the same weeks.

{co2_result_table(results)}

{co2_verdict(results)}.

The two kinds of series ask for different things: the synthetic demand is its known-ahead
columns and calendar plus independent noise, so nothing in its own past helps and the direct
strategy needs no lags (the strategy table above); CO2 has nothing known ahead and is almost
all level and season, so what predicts next quarter is the last weeks' level, which the
target's lags (recursive) and ETS read and a model of the calendar and a straight trend
cannot."""


def main(seeds: tuple[int, ...]) -> None:
    config = load_config()
    loads = [os.getloadavg()[0]]
    medians = catalog_scores(config, seeds)
    loads.append(os.getloadavg()[0])
    horizons, above, cells = horizon_table(medians)
    targets, holds = target_table(medians)
    strategies, means = strategy_table(medians)
    results, missing = co2_scores(config)
    loads.append(os.getloadavg()[0])
    libraries = library_table(config)
    loads.append(os.getloadavg()[0])
    checks = (f"- rmse <= {MAX_RMSE_TO_NOISE:.2f}x the noise floor at every h: "
              f"{mark(above == 0)} ({above} of {cells} product-h cells above)\n- coverage_80 in "
              f"0.75-0.85 and coverage_95 in 0.91-0.98: {mark(holds['coverage'])}\n- mase below "
              f"every baseline's: {mark(holds['mase'])}")
    for text in (horizons, targets, checks, strategies, strategy_verdict(config, means),
                 co2_result_table(results), co2_verdict(results), libraries):
        print(text, end="\n\n")
    write_section("forecasting", "\n\n".join([
        catalog_section(config, seeds, horizons, load_note(loads)),
        targets_section(targets, checks, [m["excess"] for m in medians.values()]),
        strategy_section(strategies, strategy_verdict(config, means)),
        co2_section(results, missing),
        f"### What the ETS baseline's library costs\n\n{libraries}\n\n{LIBRARIES_NOTE}"]))


def catalog_section(config: Config, seeds: tuple[int, ...], horizons: str, load: str) -> str:
    seed_list = ", ".join(map(str, seeds))
    return f"""## Forecasting: the noise floor at every horizon, intervals, baselines, strategy

`.venv/bin/python -m bench.forecasting --seeds {seed_list.replace(',', '')}`: every catalog
product as the pipeline prepares it ({ROWS} days ending {END_DATE}; the backtest's last
{FOLDS} x {HORIZON} days are validation), model `{config.default_model}` (catalog
`default_model`), strategy `{config.forecast_strategy}` (catalog `forecast_strategy`), a
rolling-origin backtest of {FOLDS} folds, horizon {HORIZON}; each figure is the median over
seeds {seed_list}.
Machine: {machine()}. {load}

### Every step ahead against the noise floor

Backtest rmse at step ahead h over the noise floor of the same forecast days (the rms of the
generator's realized noise on the {FOLDS} days forecast at h; 1.00 = as good as the data
allows).

{horizons}

Each cell holds {FOLDS} forecasts per seed, and its floor the rms of {FOLDS} noise draws, which
swings widely from one h to the next; the direct strategy forecasts every h the same way, so
the differences between columns are that scatter, not a horizon effect (the seeds share their
draws across products, hence the same columns stand out). `excess` below is free of it: the
rms distance from the model's {FOLDS * HORIZON} forecasts to the generator's expected demand,
as a fraction of the floor; with many folds, rmse over the floor tends to sqrt(1 + excess^2)
at every h, since the forecasts never see the noise of the days they forecast."""


def targets_section(targets: str, checks: str, excess: list[float]) -> str:
    low, high = (f"{np.sqrt(1 + e**2):.3f}" for e in (min(excess), max(excess)))
    expected = low if low == high else f"{low} to {high}"
    return f"""### Intervals and baselines

rmse_to_noise over all {FOLDS * HORIZON} forecasts; coverage of the 80% and 95% intervals, each
fold's calibrated on the other folds' errors only (held out); MASE of the model and of each
baseline on the same folds (evaluation.backtest_metrics).

{targets}

Targets:

{checks}

With the measured excess, many folds would give rmse over the floor of {expected} at every
h."""


def strategy_section(strategies: str, verdict: str) -> str:
    return f"""### Direct or recursive

The same folds and seeds with each strategy ("worst h": each seed's largest ratio over h,
median over seeds); "s" is the seconds to backtest the model ({FOLDS} refits) and fit it on all
the data (the baselines, the same for both, left out).

{strategies}

{verdict}"""


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS))
    main(tuple(parser.parse_args().seeds))
