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
