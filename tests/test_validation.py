"""A user's own sales table: every refusal, with its exact message, and what passes."""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grocery.artifacts import fetch_data
from grocery.config import load_config
from grocery.errors import UserError
from grocery.names import experiment_name_for
from grocery.validation import read_sales, validate_sales


def sales(rows: int = 20) -> pd.DataFrame:
    """A good table: a date, a string column with a gap, a numeric feature with gaps, a target."""
    frame = pd.DataFrame({
        "day": pd.date_range("2024-01-01", periods=rows, freq="D").strftime("%Y-%m-%d"),
        "shelf": ["front", "back", None, "aisle"] * (rows // 4),
        "temperature": np.where(np.arange(rows) % 3 == 0, np.nan, 20.0),
        "units": np.arange(rows, dtype=float) + 100,
    })
    return frame


def write(folder: Path, frame: pd.DataFrame, name: str = "sales.csv") -> Path:
    path = folder / name
    frame.to_csv(path, index=False) if name.endswith(".csv") else frame.to_parquet(path)
    return path


def check(frame: pd.DataFrame, name: str = "sales.csv", fraction: float = 0.2) -> pd.DataFrame:
    return validate_sales(frame, name, "units", "day", fraction, "time")


def refused(call, message: str) -> None:
    with pytest.raises(UserError) as error:
        call()
    assert str(error.value) == message


def test_a_good_csv_passes_with_dates_parsed(tmp_path):
    path = write(tmp_path, sales())
    checked = check(read_sales(path, str(path)), str(path))
    assert checked["day"].dtype.kind == "M"
    assert checked["units"].dtype == np.float64
    assert checked["temperature"].isna().sum() == 7  # gaps in features are allowed
    parquet = write(tmp_path, sales(), "sales.parquet")
    assert len(check(read_sales(parquet, str(parquet)))) == 20


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "{name}: no such file"),
        (b"", "{name}: the file is empty"),
        (b"\n\n", "{name}: the file is empty"),
        (b"day,units\n", "{name}: the file has a header but no rows"),
    ],
    ids=["missing", "empty", "blank-lines", "header-only"],
)
def test_missing_and_empty_files(tmp_path, content, message):
    path = tmp_path / "sales.csv"
    if content is not None:
        path.write_bytes(content)
    refused(lambda: read_sales(path, str(path)), message.format(name=path))


def test_a_relative_path_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    refused(lambda: read_sales(Path("sales.csv"), "sales.csv"),
            f"sales.csv: no such file (looked for {tmp_path / 'sales.csv'})")


def test_unreadable_files(tmp_path):
    garbage = tmp_path / "sales.parquet"
    garbage.write_bytes(b"this is not parquet")
    with pytest.raises(UserError) as error:
        read_sales(garbage, "sales.parquet")
    assert str(error.value).startswith("sales.parquet: cannot read it as parquet: ")
    assert "\n" not in str(error.value)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("day,units\n2024-01-01,1\n2024-01-02,2,3,4\n")
    refused(lambda: read_sales(ragged, "ragged.csv"),
            "ragged.csv: cannot read it as csv: Error tokenizing data. C error: Expected 2 "
            "fields in line 3, saw 4")
    refused(lambda: read_sales(tmp_path / "sales.xlsx", "sales.xlsx"),
            "sales.xlsx: not a .csv or .parquet file; name the file with one of those suffixes")


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


def test_a_bad_table_read_from_csv_names_the_file(tmp_path):
    path = write(tmp_path, with_rows(sales(), units=(3, "lots")))
    refused(lambda: check(read_sales(path, str(path)), str(path)),
            f"{path}: target column 'units' is not numeric (str, first 'lots' at row 4)")


def test_fetch_data_reads_paths_file_uris_and_http(tmp_path):
    path = write(tmp_path, sales())
    assert fetch_data(str(path), tmp_path) == path
    assert fetch_data(path.as_uri(), tmp_path) == path
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        downloads = tmp_path / "downloads"
        downloads.mkdir()
        local = fetch_data(f"{base}/sales.csv", downloads)
        assert local.parent == downloads and local.read_bytes() == path.read_bytes()
        with pytest.raises(UserError) as error:
            fetch_data(f"{base}/absent.csv", downloads)
        assert str(error.value) == f"{base}/absent.csv: cannot download it: File not found"
    finally:
        server.shutdown()
        server.server_close()
    refused(lambda: fetch_data("ftp://example.invalid/sales.csv", tmp_path),
            "ftp://example.invalid/sales.csv: unsupported location; give a path or a file://, "
            "http(s):// or runs:/ URI")


def test_products_outside_the_catalog():
    catalog = load_config()
    assert catalog.find_product("apples").experiment == "Apple_Models"
    oat = catalog.find_product("oat-milk", "dairy")
    assert (oat.experiment, oat.department, oat.registered_model) == (
        "Oat_Milk_Models", "dairy", "grocery-forecasting-oat-milk")
    assert experiment_name_for("sourdough") == "Sourdough_Models"
    refused(lambda: catalog.find_product("oat-milk"),
            "product 'oat-milk' is not in the catalog; pass -P department=<name> for its "
            "store_dept tag")
    refused(lambda: catalog.find_product("Oat Milk", "dairy"),
            "product 'Oat Milk' is not a lowercase slug (letters, digits, '-' or '_' between "
            "them), e.g. oat-milk")
    refused(lambda: catalog.find_product("apples", "dairy"),
            "product 'apples' is in department 'produce' in the catalog, not 'dairy'; leave "
            "department out")
