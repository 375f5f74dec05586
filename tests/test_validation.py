"""grocery.validation: every rule a user's own sales table must keep, each refusal with its exact
message, and what passes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from grocery.errors import UserError
from grocery.validation import validate_sales


def sales(rows: int = 20) -> pd.DataFrame:
    """A good table: a date, a string column with a gap, a numeric feature with gaps, a target."""
    frame = pd.DataFrame({
        "day": pd.date_range("2024-01-01", periods=rows, freq="D").strftime("%Y-%m-%d"),
        "shelf": ["front", "back", None, "aisle"] * (rows // 4),
        "temperature": np.where(np.arange(rows) % 3 == 0, np.nan, 20.0),
        "units": np.arange(rows, dtype=float) + 100,
    })
    return frame


def check(frame: pd.DataFrame, name: str = "sales.csv", fraction: float = 0.2) -> pd.DataFrame:
    return validate_sales(frame, name, "units", "day", fraction, "time")


def refused(call, message: str) -> None:
    with pytest.raises(UserError) as error:
        call()
    assert str(error.value) == message


def test_a_good_table_passes_with_dates_parsed():
    checked = check(sales())
    assert checked["day"].dtype.kind == "M"
    assert checked["units"].dtype == np.float64
    assert checked["temperature"].isna().sum() == 7  # gaps in features are allowed
    pd.testing.assert_frame_equal(checked.drop(columns=["day"]),
                                  sales().drop(columns=["day"]))


def test_a_header_without_rows_is_refused():
    refused(lambda: check(sales().head(0)), "sales.csv: the file has a header but no rows")


def with_rows(frame: pd.DataFrame, **changes) -> pd.DataFrame:
    frame = frame.copy()
    for column, (row, value) in changes.items():
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value
    return frame


BAD_TABLES = [
    ("no-target", lambda f: f.drop(columns=["units"]),
     "sales.csv: no target column 'units' (columns: day, shelf, temperature); "
     "pass -P target=<column>"),
    ("no-date", lambda f: f.drop(columns=["day"]),
     "sales.csv: no date column 'day' (columns: shelf, temperature, units); "
     "pass -P date_column=<column>"),
    ("text-target", lambda f: with_rows(f, units=(3, "lots")),
     "sales.csv: target column 'units' is not numeric (object, first 'lots' at row 4)"),
    ("bool-target", lambda f: f.assign(units=True),
     "sales.csv: target column 'units' is not numeric (bool)"),
    ("nan-target", lambda f: with_rows(f, units=(5, np.nan)).astype({"units": float}),
     "sales.csv: target column 'units' has 1 missing or infinite value, first at row 6; "
     "every row needs a target"),
    ("inf-target", lambda f: f.assign(units=[np.inf, *f["units"][1:-1], -np.inf]),
     "sales.csv: target column 'units' has 2 missing or infinite values, first at row 1; "
     "every row needs a target"),
    ("bad-date", lambda f: with_rows(f, day=(2, "yesterday")),
     "sales.csv: date column 'day' has 1 value that is not a date, first 'yesterday' at row 3"),
    ("missing-dates", lambda f: with_rows(with_rows(f, day=(0, None)), day=(7, "")),
     "sales.csv: date column 'day' has 2 values that are not a date, first None at row 1"),
    ("numeric-date", lambda f: f.assign(day=np.arange(len(f))),
     "sales.csv: date column 'day' has 20 values that are not a date, first 0 at row 1"),
    ("repeated-date", lambda f: with_rows(f, day=(9, "2024-01-05")),
     "sales.csv: date 2024-01-05 repeats (row 5, row 10); the table needs one row per day"),
    ("too-few-rows", lambda f: f.head(4),
     "sales.csv: 4 rows are too few for validation_fraction=0.2: need at least 2 rows in "
     "train and in validation"),
    ("empty-feature", lambda f: f.assign(temperature=np.nan),
     "sales.csv: feature column 'temperature' is entirely empty; drop it or fill it"),
    ("empty-text-feature", lambda f: f.assign(shelf=None),
     "sales.csv: feature column 'shelf' is entirely empty; drop it or fill it"),
    ("timestamp-feature", lambda f: f.assign(opened=pd.Timestamp("2020-01-01")),
     "sales.csv: feature column 'opened' holds datetime64[us]; features must be numbers or "
     "strings"),
    ("reserved-name", lambda f: f.assign(target_lag_1=1.0),
     "sales.csv: column 'target_lag_1' has the name of a derived feature; rename it"),
]


@pytest.mark.parametrize(("change", "message"), [b[1:] for b in BAD_TABLES],
                         ids=[b[0] for b in BAD_TABLES])
def test_each_bad_table_is_refused_with_one_line(change, message):
    refused(lambda: check(change(sales())), message)


# A table of many series, keyed by a store column (and a shelf number for two keys).

def panel(rows: int = 20, stores: tuple[str, ...] = ("S1", "S2", "S3")) -> pd.DataFrame:
    """Each store's good table, one after the other; shelf is an integer key."""
    return pd.concat([sales(rows).assign(store_id=store, shelf_no=7) for store in stores],
                     ignore_index=True)


def check_panel(frame: pd.DataFrame, series: tuple[str, ...] = ("store_id",),
                split: str = "time") -> pd.DataFrame:
    return validate_sales(frame, "sales.csv", "units", "day", 0.2, split, series)


def test_a_good_panel_passes_with_its_keys_as_given():
    checked = check_panel(panel(), ("store_id", "shelf_no"))
    assert checked["day"].dtype.kind == "M" and len(checked) == 60
    pd.testing.assert_series_equal(checked["store_id"], panel()["store_id"])
    assert checked["shelf_no"].dtype == np.int64
    # Dates are counted per series: 3 x 4 rows would pass row-wise, 4 dates do not.
    refused(lambda: check_panel(panel(4)),
            "sales.csv: 4 rows are too few for validation_fraction=0.2: need at least 2 rows in "
            "train and in validation")
    assert len(check_panel(panel(4), split="random")) == 12
    # A key is no feature: a key column of timestamps, last in the table, is not refused.
    opened = panel().assign(opened=pd.Timestamp("2020-01-01"))
    assert len(check_panel(opened, ("store_id", "opened"))) == 60


def test_a_date_twice_in_one_series_names_the_series():
    frame = panel()
    frame.loc[24, "day"] = "2024-01-03"  # S2's fifth row repeats its third date
    refused(lambda: check_panel(frame),
            "sales.csv: series store_id=S2 has two rows for 2024-01-03 (row 23, row 25); a "
            "series needs one row per day")
    refused(lambda: check_panel(frame, ("store_id", "shelf_no")),
            "sales.csv: series store_id=S2 shelf_no=7 has two rows for 2024-01-03 (row 23, "
            "row 25); a series needs one row per day")


def test_every_series_must_cover_the_same_dates():
    frame = panel().drop(index=[22, 30]).reset_index(drop=True)  # S2 lacks 01-03 and 01-11
    refused(lambda: check_panel(frame),
            "sales.csv: series store_id=S2 has no row for 2024-01-03 (and 1 more date), which "
            "other series have; every series needs the same dates")
    longer = pd.concat([panel(), sales(24).iloc[[20]].assign(store_id="S3", shelf_no=7)],
                       ignore_index=True)  # S3 alone has 01-21: S1, the first, lacks it
    refused(lambda: check_panel(longer),
            "sales.csv: series store_id=S1 has no row for 2024-01-21, which other series have; "
            "every series needs the same dates")


BAD_PANELS = [
    ("no-key", lambda f: f.drop(columns=["store_id"]),
     "sales.csv: no series column 'store_id' (columns: day, shelf, temperature, units, "
     "shelf_no); pass -P series=<column>[,<column>...]"),
    ("missing-key", lambda f: with_rows(f, store_id=(41, None)),
     "sales.csv: series column 'store_id' has 1 missing value, first at row 42; every row "
     "needs its series"),
    ("reserved-key", lambda f: f.assign(store_id=f["store_id"].replace("S3", "total")),
     "sales.csv: series column 'store_id' holds 'total' at row 41, the name a forecast gives "
     "its series' bottom-up total; rename that series"),
]


@pytest.mark.parametrize(("change", "message"), [b[1:] for b in BAD_PANELS],
                         ids=[b[0] for b in BAD_PANELS])
def test_each_bad_panel_is_refused_with_one_line(change, message):
    refused(lambda: check_panel(change(panel())), message)


def test_the_target_or_the_date_is_no_series_key():
    refused(lambda: check_panel(panel(), ("units",)),
            "sales.csv: series column 'units' is the target; a series key names which series "
            "a row belongs to")
    refused(lambda: check_panel(panel(), ("day",)),
            "sales.csv: series column 'day' is the date; a series key names which series a "
            "row belongs to")
