"""A table's step from its dates, every refusal with its exact message, and the future dates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from grocery.errors import UserError
from grocery.frequency import DAILY, WEEKLY, future_dates, infer_frequency


def dates(*days: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(days)))


def refused(values: pd.Series, message: str) -> None:
    with pytest.raises(UserError) as error:
        infer_frequency(values, "sales.csv")
    assert str(error.value) == message


def test_daily_and_weekly_steps_are_recognised_in_any_row_order():
    daily = pd.Series(pd.date_range("2023-01-01", periods=30, freq="D"))
    assert infer_frequency(daily.sample(frac=1, random_state=0), "t") == DAILY
    weekly = pd.Series(pd.date_range("2023-01-01", periods=10, freq="W-MON"))
    frequency = infer_frequency(weekly, "t")
    assert (frequency.name, frequency.season) == ("weekly", 52)
    assert frequency == WEEKLY
    assert DAILY.season == 7


def test_the_first_gap_is_named_with_its_row():
    refused(dates("2023-01-01", "2023-01-02", "2023-01-03", "2023-01-04", "2023-01-07",
                  "2023-01-08"),
            "sales.csv: dates are not evenly spaced: 2023-01-04 is followed by 2023-01-07 "
            "(3 days; the table is daily), row 5; fill the missing days or pass a daily or "
            "weekly table")


def test_the_row_counts_in_the_tables_own_order():
    # Sorted, the gap is 01-02 -> 01-05; 01-05 is the table's first row.
    refused(dates("2023-01-05", "2023-01-01", "2023-01-02", "2023-01-06", "2023-01-07"),
            "sales.csv: dates are not evenly spaced: 2023-01-02 is followed by 2023-01-05 "
            "(3 days; the table is daily), row 1; fill the missing days or pass a daily or "
            "weekly table")


def test_a_gap_in_a_weekly_table_says_weeks():
    weekly = [*pd.date_range("2023-01-02", periods=5, freq="7D").strftime("%Y-%m-%d"),
              "2023-02-20"]
    refused(dates(*weekly),
            "sales.csv: dates are not evenly spaced: 2023-01-30 is followed by 2023-02-20 "
            "(21 days; the table is weekly), row 6; fill the missing weeks or pass a daily or "
            "weekly table")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (dates("2023-01-01"), "sales.csv: 1 date; at least 2 are needed to tell a daily from "
                              "a weekly table"),
        (dates("2023-01-01", "2023-01-04", "2023-01-07"),
         "sales.csv: dates are mostly 3 days apart; pass a daily or weekly table"),
        (dates("2023-01-02", "2023-01-01", "2023-01-02"),
         "sales.csv: date 2023-01-02 repeats (row 1, row 3); the table needs one row per date"),
    ],
)
def test_refusals(values, message):
    refused(values, message)


def test_future_dates_follow_the_origin_by_one_step_each():
    origin = pd.Timestamp("2023-12-30")
    assert list(future_dates(origin, 3, DAILY)) == list(
        pd.to_datetime(["2023-12-31", "2024-01-01", "2024-01-02"]))
    assert list(future_dates(origin, 2, WEEKLY)) == list(
        pd.to_datetime(["2024-01-06", "2024-01-13"]))
    assert len(future_dates(origin, 0, DAILY)) == 0


def test_one_series_of_many_names_the_tables_own_rows():
    # The series' dates sit at rows 3, 5, 7, ... of the table; the gap's row is the table's.
    days = dates("2023-01-01", "2023-01-02", "2023-01-03", "2023-01-05")
    with pytest.raises(UserError) as error:
        infer_frequency(days, "sales.csv: series store_id=S1", rows=np.array([2, 4, 6, 8]))
    assert str(error.value) == (
        "sales.csv: series store_id=S1: dates are not evenly spaced: 2023-01-03 is followed by "
        "2023-01-05 (2 days; the table is daily), row 9; fill the missing days or pass a daily "
        "or weekly table")
    with pytest.raises(UserError, match=r"repeats \(row 3, row 7\)"):
        infer_frequency(dates("2023-01-01", "2023-01-02", "2023-01-01"), "t",
                        rows=np.array([2, 4, 6]))
