"""grocery.dataset.continue_sales: the days after a synthetic sales frame, for a forecast to be
set against."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from grocery.config import load_config
from grocery.dataset import COLUMNS, STORE, continue_sales, simulate_sales

CONFIG = load_config()


@pytest.fixture(params=list(CONFIG.generators), scope="module")
def generator(request):
    return CONFIG.generators[request.param]


def test_the_horizon_days_after_the_last_day_in_the_same_columns(generator):
    sales, _ = simulate_sales(generator, 60, "2023-10-03", 9999)
    after = continue_sales(generator, sales, 14, 9999)
    assert list(after.columns) == COLUMNS
    assert list(after.dtypes) == list(sales.dtypes)
    assert list(after["date"]) == list(pd.date_range("2023-10-04", periods=14, freq="D"))
    assert not after.isna().any().any()
    pd.testing.assert_frame_equal(after, continue_sales(generator, sales, 14, 9999))


def test_previous_days_demand_continues_from_the_last_demand(generator):
    sales, _ = simulate_sales(generator, 30, "2023-10-03", 9999)
    after = continue_sales(generator, sales, 7, 9999)
    assert after["previous_days_demand"].iloc[0] == sales["demand"].iloc[-1]
    np.testing.assert_array_equal(after["previous_days_demand"].iloc[1:],
                                  after["demand"].iloc[:-1])


def test_drawn_from_the_next_seed_by_the_same_formula(generator):
    # Where no year changes, the continuation is the first days simulate_sales draws from
    # seed + 1 for those dates.
    sales, _ = simulate_sales(generator, 30, "2023-06-10", 9999)
    after = continue_sales(generator, sales, 10, 9999)
    fresh, _ = simulate_sales(generator, 10, "2023-06-20", 10000)
    columns = [c for c in COLUMNS if c != "previous_days_demand"]
    pd.testing.assert_frame_equal(after[columns], fresh[columns])
    assert not np.allclose(after["demand"],
                           continue_sales(generator, sales, 10, 1)["demand"])


def test_inflation_counts_years_from_the_first_year_of_the_sales():
    # Sales spanning 2021-2023: the continuation in 2023/2024 carries 2 and 3 years of
    # inflation, not 0 and 1 as a fresh frame starting in 2023 would.
    generator = CONFIG.generators["apples"]
    sales, _ = simulate_sales(generator, 800, "2023-12-25", 9999)
    assert sales["date"].min().year == 2021
    after = continue_sales(generator, sales, 14, 9999)
    fresh, _ = simulate_sales(generator, 14, "2024-01-08", 10000)
    in_2023 = after["date"].dt.year == 2023
    assert in_2023.any() and (~in_2023).any()
    ratio = after["demand"].to_numpy() / fresh["demand"].to_numpy()
    np.testing.assert_allclose(ratio[in_2023.to_numpy()], 1.06 / 1.0)
    np.testing.assert_allclose(ratio[~in_2023.to_numpy()], 1.09 / 1.03)


def test_a_chain_continues_store_by_store():
    generator = CONFIG.generators["apples"]
    sales, _ = simulate_sales(generator, 40, "2023-10-03", 9999, stores=4)
    after = continue_sales(generator, sales, 7, 9999)
    assert list(after.columns) == [STORE, *COLUMNS]
    assert list(pd.unique(after[STORE])) == ["S1", "S2", "S3", "S4"]
    assert after.groupby(STORE)["date"].agg(list).map(
        lambda days: days == list(pd.date_range("2023-10-04", periods=7, freq="D"))).all()
    first = ~after[STORE].duplicated()
    last_demand = sales.groupby(STORE)["demand"].last()
    np.testing.assert_array_equal(after.loc[first, "previous_days_demand"],
                                  last_demand.loc[after.loc[first, STORE]])
    pd.testing.assert_frame_equal(after, continue_sales(generator, sales, 7, 9999))
    # A store keeps what it is: store 3 continues the same in a chain of 4 and of 12.
    larger, _ = simulate_sales(generator, 40, "2023-10-03", 9999, stores=12)
    later = continue_sales(generator, larger, 7, 9999)
    pd.testing.assert_frame_equal(
        after[after[STORE] == "S3"].drop(columns=STORE).reset_index(drop=True),
        later[later[STORE] == "S03"].drop(columns=STORE).reset_index(drop=True),
        check_exact=True)
    # Its days are new draws (seed + 1): not the days a longer history from seed holds.
    longer, _ = simulate_sales(generator, 47, "2023-10-10", 9999, stores=4)
    assert not np.allclose(longer["rainfall"].to_numpy().reshape(4, 47)[:, -7:],
                           after["rainfall"].to_numpy().reshape(4, 7))
