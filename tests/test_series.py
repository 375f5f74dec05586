"""grocery.series, and the many-series paths of the forecaster and the backtest: one global
model across a chain's stores, one model per store, per-series scores and the bottom-up total."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from grocery.config import load_config
from grocery.dataset import STORE, simulate_sales
from grocery.errors import UserError
from grocery.evaluation import backtest_metrics, run_backtest, series_metrics
from grocery.forecaster import ForecastSpec, fit_forecaster, forecast_table, point_forecast
from grocery.names import PER_SERIES, RECURSIVE
from grocery.series import (
    LEVEL,
    SERIES,
    TOTAL,
    chunks_of_series,
    department_total,
    per_series_scores,
    series_count,
    series_labels,
    series_levels,
    summary_metrics,
    totals,
    with_levels,
    with_total,
)

CONFIG = load_config()
RIDGE = CONFIG.model("ridge")
KNOWN = ("price_per_kg", "promo", "holiday", "weekend")
SPEC = ForecastSpec("demand", "date", KNOWN, 7, 1, 14, series=(STORE,))
STORES, ROWS, FOLDS = 6, 200, 2


@pytest.fixture(scope="module")
def chain() -> pd.DataFrame:
    generator = CONFIG.generators["apples"]
    return simulate_sales(generator, ROWS, "2023-10-03", 7, STORES)[0]


@pytest.fixture(scope="module")
def backtest(chain):
    return run_backtest(RIDGE, {"alpha": 1.0}, chain, SPEC, FOLDS)


def frame_of(values: dict) -> pd.DataFrame:
    return pd.DataFrame(values)


def test_labels_name_each_rows_series_by_its_keys():
    frame = frame_of({"store": ["a", "b"], "aisle": [1, 2]})
    assert list(series_labels(frame, ("store",))) == ["a", "b"]
    assert list(series_labels(frame, ("store", "aisle"))) == ["a|1", "b|2"]


def test_a_frame_counts_its_series_and_one_without_a_key():
    frame = frame_of({"store": ["a", "a", "b"], "aisle": [1, 2, 1]})
    assert series_count(frame, ("store",)) == 2
    assert series_count(frame, ("store", "aisle")) == 3
    assert series_count(frame, ()) == 1


def test_a_level_is_the_mean_of_the_last_four_seasons_and_never_zero():
    days = 40
    frame = frame_of({"s": ["x"] * days + ["y"] * days,
                      "y": [1.0] * 12 + [3.0] * 28 + [0.0] * days})
    levels = series_levels(frame, ("s",), "y", 7).set_index("s")[LEVEL]
    assert levels["x"] == 3.0  # the last 28 values only
    assert levels["y"] == 1.0  # no sales yet: a neutral scale, not a division by zero


def test_levels_join_in_the_frames_order_and_a_series_without_history_is_named():
    levels = frame_of({"s": ["x", "y"], LEVEL: [2.0, 4.0]})
    joined = with_levels(frame_of({"s": ["y", "x", "y"]}, ), levels, ("s",))
    assert list(joined[LEVEL]) == [4.0, 2.0, 4.0]
    with pytest.raises(UserError, match="series z has rows to forecast but no history"):
        with_levels(frame_of({"s": ["z"]}), levels, ("s",))


def test_chunks_hold_whole_series_in_order_and_no_more_than_asked():
    frame = frame_of({"s": np.repeat(list("abcde"), 3), "v": range(15)})
    parts = chunks_of_series(frame, ("s",), 2)
    assert len(parts) == 2 and sum(len(p) for p in parts) == 15
    assert [list(p["s"].unique()) for p in parts] == [["a", "b"], ["c", "d", "e"]]
    assert len(chunks_of_series(frame, ("s",), 50)) == 5


def test_per_series_scores_summary_and_total():
    frame = frame_of({"s": ["a", "a", "b", "b"], "fold": 1, "origin": 0, "h": [1, 2, 1, 2],
                      "date": [1, 2, 1, 2], "actual": [10.0, 10.0, 20.0, 20.0],
                      "forecast": [12.0, 8.0, 20.0, 23.0], "mae_scale": [2.0, 2.0, 1.0, 1.0]})
    scores = per_series_scores(frame, ("s",)).set_index(SERIES)
    assert scores.loc["a", "rmse"] == 2.0 and scores.loc["a", "mase"] == 1.0
    assert scores.loc["b", "mae"] == 1.5 and scores.loc["b", "mase"] == 1.5
    summary = summary_metrics(scores.reset_index())
    assert summary["series_count"] == 2 and summary["series_mase_median"] == 1.25
    total = totals(frame)
    assert list(total["actual"]) == [30.0, 30.0] and list(total["forecast"]) == [32.0, 31.0]


def test_one_global_model_forecasts_every_store_at_its_own_level(chain):
    origin = chain["date"].max() - pd.Timedelta(days=14)
    history = chain[chain["date"] <= origin]
    future = chain[chain["date"] > origin].drop(columns=["demand"])
    model = fit_forecaster(RIDGE, {"alpha": 1.0}, history, SPEC)
    forecast = point_forecast(model, history, future, SPEC)
    actual = chain.loc[chain["date"] > origin, "demand"].to_numpy()
    per_store = pd.DataFrame({"store": future[STORE].to_numpy(), "ratio": forecast / actual})
    # Stores differ in size; each store's forecast is near its own actuals, not the chain's mean.
    assert per_store.groupby("store")["ratio"].mean().between(0.85, 1.15).all()


def test_the_backtest_cuts_every_series_at_the_same_origins(backtest, chain):
    frame = backtest.forecasts
    assert len(frame) == STORES * FOLDS * 14
    assert frame.groupby("fold")["origin"].nunique().eq(1).all()
    assert frame.groupby(STORE).size().eq(FOLDS * 14).all()
    assert (frame[LEVEL] > 0).all() and (frame["lower_95"] <= frame["lower_80"]).all()
    metrics = backtest_metrics(backtest)
    assert 0.6 <= metrics["coverage_80"] <= 1.0
    assert metrics["mase"] < metrics["baseline_seasonal_naive_mase"]


def test_series_metrics_score_each_store_and_the_chains_total(backtest, chain):
    per_series, metrics = series_metrics(backtest, chain, SPEC)
    assert len(per_series) == STORES and set(per_series[SERIES]) == set(chain[STORE])
    assert metrics["series_count"] == STORES
    assert metrics["series_mase_median"] <= metrics["series_mase_p90"]
    # The total is the sum of the stores: its error is below the sum of theirs.
    assert 0 < metrics["total_rmse"] < per_series["rmse"].sum()
    assert series_metrics(replace(backtest, series=()), chain, replace(SPEC, series=())) == \
        (None, {})


def test_a_model_per_series_is_selectable_and_chunked_through_the_mapper(chain):
    spec = replace(SPEC, series_model=PER_SERIES)
    calls = []

    def mapper(fn, arguments):
        calls.append(len(arguments))
        return [fn(argument) for argument in arguments]

    model = fit_forecaster(RIDGE, {"alpha": 1.0}, chain, spec, mapper)
    assert sorted(model) == sorted(chain[STORE].unique()) and calls == [STORES]


def test_the_forecast_table_answers_per_series_with_bands_at_each_level(backtest, chain):
    origin = chain["date"].max() - pd.Timedelta(days=14)
    table = chain.assign(demand=chain["demand"].where(chain["date"] <= origin))
    model = fit_forecaster(RIDGE, {"alpha": 1.0}, chain[chain["date"] <= origin], SPEC)
    result = forecast_table(model, backtest.calibration, SPEC, table)
    result = result[result[STORE] != TOTAL]
    assert len(result) == STORES * 14 and list(result.columns[:2]) == [STORE, "date"]
    width = (result["upper_80"] - result["lower_80"]).groupby(result[STORE]).mean()
    level = chain.groupby(STORE)["demand"].mean()
    assert width.corr(level) > 0.9  # a bigger store gets a wider band


def test_the_recursive_strategy_needs_one_model_per_series(chain):
    with pytest.raises(UserError, match="series_model=per_series"):
        fit_forecaster(RIDGE, {"alpha": 1.0}, chain, replace(SPEC, strategy=RECURSIVE))


def test_the_forecast_adds_up_to_the_chains_total_each_day(backtest, chain):
    origin = chain["date"].max() - pd.Timedelta(days=14)
    table = chain.assign(demand=chain["demand"].where(chain["date"] <= origin))
    model = fit_forecaster(RIDGE, {"alpha": 1.0}, chain[chain["date"] <= origin], SPEC)
    result = forecast_table(model, backtest.calibration, SPEC, table)
    total = result[result[STORE] == TOTAL].set_index("date")["forecast"]
    stores = result[result[STORE] != TOTAL].groupby("date")["forecast"].sum()
    assert len(total) == 14 and np.allclose(total, stores)
    # A band does not add up: the total's is left empty rather than made up.
    assert result.loc[result[STORE] == TOTAL, "lower_80"].isna().all()
    with_actual = with_total(chain.head(4)[[STORE, "date", "demand"]], (STORE,), "date",
                             ["demand"])
    assert list(with_actual[STORE]) == ["S1", "S1", "S1", "S1", *[TOTAL] * 4]


def test_a_departments_total_adds_up_each_products_own_total():
    chain = frame_of({STORE: ["S1", "S2", TOTAL], "date": ["d1"] * 3,
                      "forecast": [1.0, 2.0, 3.0], "actual": [1.5, 2.5, 4.0]})
    single = frame_of({"date": ["d1"], "forecast": [10.0], "actual": [11.0]})
    table = department_total({"milk": chain, "cheese": single}, "dairy", "date",
                             ["forecast", "actual"])
    assert list(table.columns[:2]) == ["product", STORE]
    department = table[table["product"] == "dairy"].iloc[0]
    assert (department["forecast"], department["actual"], department[STORE]) == (13.0, 15.0,
                                                                                TOTAL)
    assert len(table) == 5


def test_a_missing_known_ahead_value_names_its_series(backtest, chain):
    origin = chain["date"].max() - pd.Timedelta(days=14)
    table = chain.assign(demand=chain["demand"].where(chain["date"] <= origin))
    table.loc[(table[STORE] == "S3") & (table["date"] > origin), "promo"] = np.nan
    model = fit_forecaster(RIDGE, {"alpha": 1.0}, chain[chain["date"] <= origin], SPEC)
    with pytest.raises(UserError, match="future row 2023-09-20 of series S3 has no value for "
                                        "known-ahead column 'promo'"):
        forecast_table(model, backtest.calibration, SPEC, table)
