"""Column roles: known ahead as named, target lags detected and taken out, every refusal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from grocery.config import load_config
from grocery.dataset import STORE, simulate_sales
from grocery.errors import UserError
from grocery.roles import column_roles, detect_target_lags, parse_columns

KNOWN_AHEAD = "price_per_kg, promo, holiday, weekend"


@pytest.fixture(scope="module")
def milk() -> pd.DataFrame:
    return simulate_sales(load_config().generators["milk"], 120, "2023-10-03", 9999)[0]


def refused(call, message: str) -> None:
    with pytest.raises(UserError) as error:
        call()
    assert str(error.value) == message


def test_parse_columns():
    assert parse_columns(" price_per_kg,promo , holiday,") == (
        "price_per_kg", "promo", "holiday")
    assert parse_columns("") == ()
    assert parse_columns("  ") == ()


def test_the_catalog_data_roles(milk):
    roles = column_roles(milk, "demand", "date", parse_columns(KNOWN_AHEAD), max_lag=28)
    assert set(roles.known_ahead) == {"price_per_kg", "promo", "holiday", "weekend"}
    assert roles.observed == ("average_temperature", "rainfall")
    assert roles.target_lags == (("previous_days_demand", 1),)
    assert (roles.target, roles.date_column) == ("demand", "date")


def test_detect_lags_finds_k_and_ignores_what_is_not_a_lag(milk):
    frame = milk[["demand"]].copy()
    frame["week_ago"] = frame["demand"].shift(7)  # missing on the first rows
    frame["almost"] = frame["demand"].shift(2) * 1.01  # 1% off: not a lag
    frame["label"] = "x"
    frame["flag"] = True
    frame["far"] = frame["demand"].shift(10)
    found = detect_target_lags(frame, "demand", ["week_ago", "almost", "label", "flag", "far"],
                               max_lag=8)
    assert found == {"week_ago": 7}


def test_a_lag_with_a_few_corrected_rows_is_still_a_lag(milk):
    frame = milk[["demand"]].copy()
    lag = frame["demand"].shift(3).to_numpy().copy()
    lag[50] += 10  # one row in ~117 differs: still above 99% agreement
    frame["lag3"] = lag
    assert detect_target_lags(frame, "demand", ["lag3"], max_lag=3) == {"lag3": 3}
    lag[51:53] += 10  # three rows differ: below 99%
    frame["lag3"] = lag
    assert detect_target_lags(frame, "demand", ["lag3"], max_lag=3) == {}


def test_without_known_ahead_every_other_column_is_observed(milk):
    roles = column_roles(milk, "demand", "date", (), max_lag=1)
    assert roles.known_ahead == ()
    assert len(roles.observed) == 6 and "previous_days_demand" not in roles.observed


def test_refusals(milk):
    columns = ("date, average_temperature, rainfall, weekend, holiday, price_per_kg, promo, "
               "demand, previous_days_demand")
    refused(lambda: column_roles(milk, "demand", "date", ("prcie",), 28),
            f"known_ahead column 'prcie' is not in the table (columns: {columns})")
    refused(lambda: column_roles(milk, "demand", "date", ("demand",), 28),
            "known_ahead column 'demand' is the target; a forecast never knows its own target "
            "ahead, leave it out of known_ahead")
    refused(lambda: column_roles(milk, "demand", "date", ("promo", "date"), 28),
            "known_ahead column 'date' is the date column; the calendar is always known ahead, "
            "leave it out of known_ahead")
    refused(lambda: column_roles(milk, "demand", "date", ("previous_days_demand",), 28),
            "known_ahead column 'previous_days_demand' is the target's lag 1 (demand 1 row(s) "
            "earlier), so it is not known ahead; it is recomputed from the target, leave it out "
            "of known_ahead")
    refused(lambda: column_roles(milk, "units", "date", (), 28),
            f"no target column 'units' in the table (columns: {columns})")


def test_a_constant_column_is_not_mistaken_for_a_lag():
    frame = pd.DataFrame({"date": pd.date_range("2023-01-01", periods=50),
                          "demand": np.arange(50.0), "shelf_size": 3.0})
    roles = column_roles(frame, "demand", "date", (), max_lag=7)
    assert roles.observed == ("shelf_size",) and roles.target_lags == ()


@pytest.fixture(scope="module")
def chain() -> pd.DataFrame:
    """Four stores of milk, rows interleaved by date (each store's rows still in time order)."""
    frame = simulate_sales(load_config().generators["milk"], 60, "2023-10-03", 9999, stores=4)[0]
    return frame.sort_values(["date", STORE], kind="stable").reset_index(drop=True)


def test_series_keys_are_no_feature_and_lags_are_found_within_a_series(chain):
    roles = column_roles(chain, "demand", "date", parse_columns(KNOWN_AHEAD), max_lag=7,
                         series=(STORE,))
    assert STORE not in (*roles.known_ahead, *roles.observed)
    assert roles.observed == ("average_temperature", "rainfall")
    assert roles.target_lags == (("previous_days_demand", 1),)
    # Read as one series, the rows of 4 stores interleaved: yesterday's demand is 4 rows up.
    assert column_roles(chain, "demand", "date", (), max_lag=7).target_lags == (
        ("previous_days_demand", 4),)
    # Found in any row order: each series is put in date order first.
    shuffled = chain.sample(frac=1, random_state=0)
    assert detect_target_lags(shuffled, "demand", ["previous_days_demand", "rainfall"], 7,
                              (STORE,), "date") == {"previous_days_demand": 1}
    week_ago = chain.assign(week_ago=chain.groupby(STORE)["demand"].shift(7))
    assert detect_target_lags(week_ago, "demand", ["week_ago"], 8, (STORE,), "date") == {
        "week_ago": 7}


def test_a_series_key_is_refused_as_known_ahead_and_must_exist(chain):
    refused(lambda: column_roles(chain, "demand", "date", (STORE,), 7, (STORE,)),
            "known_ahead column 'store_id' is a series key; it names a series, it is not a "
            "feature, leave it out of known_ahead")
    refused(lambda: column_roles(chain, "demand", "date", (), 7, ("region",)),
            f"no series column 'region' in the table (columns: {', '.join(chain.columns)})")


def test_a_long_table_is_judged_on_all_its_rows():
    # 30,000 rows: the first 1,200 are compared first; 0.9% off, all there, is still a lag.
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"demand": rng.normal(100, 10, 30_000)})
    lag = frame["demand"].shift(1).to_numpy().copy()
    lag[1:271] += 5
    frame["lag1"] = lag
    assert detect_target_lags(frame, "demand", ["lag1"], max_lag=2) == {"lag1": 1}
    lag[271:401] += 5  # 1.3% off: no lag
    frame["lag1"] = lag
    assert detect_target_lags(frame, "demand", ["lag1"], max_lag=2) == {}
