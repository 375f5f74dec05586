"""grocery.forecaster: forecasts from history plus future rows, reading nothing after the origin."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from grocery.config import load_config
from grocery.dataset import simulate_sales
from grocery.errors import UserError
from grocery.forecaster import (
    OUTPUT_COLUMNS,
    ForecastSpec,
    fit_forecaster,
    forecast_table,
    point_forecast,
    split_history_future,
)
from grocery.intervals import calibrate
from grocery.names import DIRECT, RECURSIVE

CONFIG = load_config()
RIDGE = CONFIG.model("ridge")
KNOWN = ("price_per_kg", "promo", "holiday", "weekend")
OBSERVED = ["average_temperature", "rainfall", "previous_days_demand"]


def spec(strategy: str = DIRECT) -> ForecastSpec:
    return ForecastSpec("demand", "date", KNOWN, 7, 1, 14, strategy)


@pytest.fixture(scope="module")
def sales() -> pd.DataFrame:
    generator = next(iter(CONFIG.generators.values()))
    return simulate_sales(generator, 300, "2023-10-03", 9999)[0]


def future_rows(sales: pd.DataFrame, n: int = 14) -> pd.DataFrame:
    return sales.tail(n).assign(demand=np.nan)


@pytest.mark.parametrize("strategy", [DIRECT, RECURSIVE])
def test_nothing_after_the_origin_changes_a_forecast(sales, strategy):
    history, truth = sales.iloc[:-14], sales.iloc[-14:]
    model = fit_forecaster(RIDGE, {"alpha": 1.0}, history, spec(strategy))
    rng = np.random.default_rng(0)
    scrambled = truth.copy()
    for column in ["demand", *OBSERVED]:
        scrambled[column] = rng.normal(0, 1e6, len(truth))
    first = point_forecast(model, history, truth.drop(columns="demand"), spec(strategy))
    second = point_forecast(model, history, scrambled.drop(columns="demand"), spec(strategy))
    assert np.array_equal(first, second)  # to the last bit


def test_recursive_forecasts_feed_forward_and_direct_ones_do_not(sales):
    history, future = sales.iloc[:-14], sales.iloc[-14:].drop(columns="demand")
    direct = fit_forecaster(RIDGE, {"alpha": 1.0}, history, spec(DIRECT))
    recursive = fit_forecaster(RIDGE, {"alpha": 1.0}, history, spec(RECURSIVE))
    changed = history.assign(demand=history["demand"] * 2)
    assert np.array_equal(point_forecast(direct, history, future, spec(DIRECT)),
                          point_forecast(direct, changed, future, spec(DIRECT)))
    assert not np.array_equal(point_forecast(recursive, history, future, spec(RECURSIVE)),
                              point_forecast(recursive, changed, future, spec(RECURSIVE)))


def test_forecast_table_has_ordered_bands_for_each_future_day(sales):
    history = sales.iloc[:-14]
    model = fit_forecaster(RIDGE, {"alpha": 1.0}, history, spec())
    h = np.tile(np.arange(1, 15), 5)
    calibration = calibrate(h, np.random.default_rng(1).normal(0, 10, len(h)), 14)
    table = pd.concat([history.tail(30), future_rows(sales)]).sample(frac=1, random_state=0)
    result = forecast_table(model, calibration, spec(), table)
    assert list(result.columns) == ["date", *OUTPUT_COLUMNS]
    assert list(result["date"]) == list(sales["date"].tail(14))
    assert (result["lower_95"] <= result["lower_80"]).all()
    assert (result["lower_80"] <= result["forecast"]).all()
    assert (result["forecast"] <= result["upper_80"]).all()
    assert (result["upper_80"] <= result["upper_95"]).all()


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t.assign(demand=np.nan), "the input has no history rows"),
    (lambda t: t.iloc[:30], "the input has no rows to forecast: add the days after 2023-09-19"),
    (lambda t: t.drop(columns="promo"), "the input lacks column promo"),
    (lambda t: t.assign(promo=t["promo"].where(t["demand"].notna() | (t.index < 290))),
     "future row 2023-09-24 has no value for known-ahead column 'promo'"),
])
def test_bad_forecast_inputs_are_one_line(sales, change, message):
    table = pd.concat([sales.iloc[256:286], future_rows(sales)])
    with pytest.raises(UserError, match=message):
        split_history_future(change(table), spec())


def test_more_steps_than_the_horizon_are_refused(sales):
    table = pd.concat([sales.iloc[:270], future_rows(sales, 30)])
    with pytest.raises(UserError, match="at most 14 steps"):
        split_history_future(table, spec())


def test_spec_round_trips_through_a_dict():
    assert ForecastSpec.from_dict(spec(RECURSIVE).to_dict()) == spec(RECURSIVE)
    assert spec(RECURSIVE).lags == (1, 7) and spec(DIRECT).lags == ()
