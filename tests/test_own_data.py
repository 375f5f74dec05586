"""grocery.own_data: a user's table fetched (path, file://, http(s)://, runs:/), read and
checked in one call, split, and the product it is prepared for."""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from grocery.config import load_config
from grocery.dataset import DATE, STORE, TARGET, split_synthetic_sales
from grocery.errors import UserError
from grocery.own_data import (
    fetch_data,
    forecast_task,
    known_product,
    prepared_product,
    read_own_table,
    split_own_table,
)
from grocery.prepared import data_source
from tests.conftest import new_store

CONFIG = load_config()
PRODUCT = next(iter(CONFIG.products.values()))
HORIZON, FOLDS = 4, 2  # 28 rows to train before the first origin + 2 x 4: 36 of 60


def sales(rows: int = 60) -> pd.DataFrame:
    """A good table: a date as text, a string column with a gap, a numeric one, a target."""
    return pd.DataFrame({
        "day": pd.date_range("2024-01-01", periods=rows, freq="D").strftime("%Y-%m-%d"),
        "shelf": ["front", "back", None, "aisle"] * (rows // 4),
        "temperature": np.where(np.arange(rows) % 3 == 0, np.nan, 20.0),
        "units": np.arange(rows, dtype=float) + 100,
    })


def write(folder: Path, frame: pd.DataFrame, name: str = "sales.csv") -> Path:
    path = folder / name
    frame.to_csv(path, index=False) if name.endswith(".csv") else frame.to_parquet(path)
    return path


def read(data: str | Path) -> pd.DataFrame:
    return read_own_table(str(data), "units", "day", 0.2, "time", HORIZON, FOLDS)


def refused(call, message: str) -> None:
    with pytest.raises(UserError) as error:
        call()
    assert str(error.value) == message


@pytest.mark.parametrize("name", ["sales.csv", "sales.parquet", "sales.pq"])
def test_a_good_table_is_read_with_dates_parsed(tmp_path, name):
    table = read(write(tmp_path, sales(), name))
    assert table["day"].dtype.kind == "M" and table["units"].dtype == np.float64
    assert len(table) == 60


def test_a_bad_table_names_the_file_as_given(tmp_path):
    frame = sales()
    frame["units"] = frame["units"].astype(object)
    frame.loc[3, "units"] = "lots"
    path = write(tmp_path, frame)
    refused(lambda: read(path),
            f"{path}: target column 'units' is not numeric (str, first 'lots' at row 4)")
    header = tmp_path / "header.csv"
    header.write_text("day,units\n")
    refused(lambda: read(header), f"{header}: the file has a header but no rows")
    refused(lambda: read(tmp_path / "absent.csv"), f"{tmp_path / 'absent.csv'}: no such file")


def test_the_split_keeps_the_last_days_for_validation(tmp_path):
    split = split_own_table(str(write(tmp_path, sales())), "units", "day", 0.2, "time",
                            HORIZON, FOLDS)
    assert (len(split.train), len(split.validation)) == (52, 8)  # the backtest's 2 x 4 days
    assert split.train["day"].max() < split.validation["day"].min()
    assert split.noise_floor is None  # a user's noise is unknown
    pd.testing.assert_frame_equal(split.sales, read(write(tmp_path, sales())))


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
        assert len(read(f"{base}/sales.csv")) == 60
        with pytest.raises(UserError) as error:
            fetch_data(f"{base}/absent.csv", downloads)
        assert str(error.value) == f"{base}/absent.csv: cannot download it: File not found"
    finally:
        server.shutdown()
        server.server_close()
    refused(lambda: fetch_data("ftp://example.invalid/sales.csv", tmp_path),
            "ftp://example.invalid/sales.csv: unsupported location; give a path or a file://, "
            "http(s):// or runs:/ URI")


def test_a_signed_link_is_read_from_the_environment_and_stored_without_its_signature(
        tmp_path, monkeypatch):
    path = write(tmp_path, sales())
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        monkeypatch.setenv("SALES_URL", f"{base}/sales.csv?X-Amz-Signature=s3cr3t-sig")
        downloads = tmp_path / "downloads"
        downloads.mkdir()
        assert fetch_data("env:SALES_URL", downloads).read_bytes() == path.read_bytes()
        assert len(read("env:SALES_URL")) == 60
        assert data_source("env:SALES_URL") == f"{base}/sales.csv"
        monkeypatch.setenv("SALES_URL", f"{base}/absent.csv?X-Amz-Signature=s3cr3t-sig")
        refused(lambda: fetch_data("env:SALES_URL", tmp_path),
                f"{base}/absent.csv: cannot download it: File not found")
    finally:
        server.shutdown()
        server.server_close()
    monkeypatch.delenv("SALES_URL")
    refused(lambda: fetch_data("env:SALES_URL", tmp_path),
            "env:SALES_URL: the environment variable SALES_URL is not set; export it with the "
            "table's path or URL")


def test_fetch_data_downloads_a_runs_uri(tmp_path):
    store = new_store(tmp_path / "store")
    csv = write(tmp_path, sales())
    mlflow.set_tracking_uri(store.uri)
    try:
        experiment = store.client.create_experiment(
            "uploads", artifact_location=(tmp_path / "art").as_uri())
        with mlflow.start_run(experiment_id=experiment) as run:
            mlflow.log_artifact(str(csv), "tables")
        (tmp_path / "get").mkdir()
        local = fetch_data(f"runs:/{run.info.run_id}/tables/{csv.name}", tmp_path / "get")
        with pytest.raises(UserError, match=r"^runs:/.*/tables/absent\.csv: cannot download it: "):
            fetch_data(f"runs:/{run.info.run_id}/tables/absent.csv", tmp_path / "get")
    finally:
        mlflow.set_tracking_uri(None)
    assert local.read_bytes() == csv.read_bytes()


def test_the_product_prepared_with_and_without_own_data():
    assert prepared_product(CONFIG, PRODUCT.name, "", "", TARGET, DATE) == PRODUCT
    own = prepared_product(CONFIG, "oat-milk", "t.csv", "dairy", "units", "day")
    assert (own.name, own.department) == ("oat-milk", "dairy")
    assert prepared_product(CONFIG, PRODUCT.name, "t.csv", "", "units", "day") == PRODUCT
    for target, date_column, department, known in (("units", DATE, "", ""),
                                                   (TARGET, "day", "", ""),
                                                   (TARGET, DATE, "dairy", ""),
                                                   (TARGET, DATE, "", "promo")):
        with pytest.raises(UserError) as error:
            prepared_product(CONFIG, PRODUCT.name, "", department, target, date_column, known)
        assert str(error.value) == ("target, date_column, department and known_ahead apply to "
                                    "your own data only; pass -P data=<csv or parquet file>")
    with pytest.raises(UserError, match="unknown product 'oat-milk'"):
        prepared_product(CONFIG, "oat-milk", "", "", TARGET, DATE)


def test_the_product_a_run_is_tagged_with_before_its_parameters_are_checked():
    assert known_product(CONFIG, PRODUCT.name, "", "dairy") == PRODUCT  # refused later, tagged
    assert known_product(CONFIG, "oat-milk", "t.csv", "dairy").name == "oat-milk"
    assert known_product(CONFIG, "oat-milk", "", "dairy") is None
    assert known_product(CONFIG, "Oat Milk", "t.csv", "dairy") is None


def panel(rows: int = 60) -> pd.DataFrame:
    """Three stores' good tables, rows interleaved by day; store numbers as integers."""
    frame = pd.concat([sales(rows).assign(store=number, units=sales(rows)["units"] * number)
                       for number in (1, 2, 3)], ignore_index=True)
    return frame.sort_values(["day", "store"], kind="stable").reset_index(drop=True)


def test_a_table_of_many_series_is_split_on_the_same_dates(tmp_path):
    path = str(write(tmp_path, panel()))
    split = split_own_table(path, "units", "day", 0.2, "time", HORIZON, FOLDS, series=("store",))
    assert split.series == ("store",) and split.sales["store"].dtype == np.int64
    assert (len(split.train), len(split.validation)) == (3 * 52, 3 * 8)
    assert split.validation.groupby("store")["day"].nunique().eq(8).all()
    assert split.train["day"].max() < split.validation["day"].min()
    frequency, roles = forecast_task(split.sales, path, "units", "day", HORIZON, FOLDS, (),
                                     ("store",))
    assert frequency.name == "daily" and "store" not in roles.observed
    # Read as one series, the table repeats each day three times.
    with pytest.raises(UserError, match=r"date 2024-01-01 repeats \(row 1, row 2, row 3\)"):
        read(path)


def test_a_gap_every_series_shares_names_the_first_series(tmp_path):
    frame = panel()
    path = write(tmp_path, frame[frame["day"] != "2024-01-10"])
    refused(lambda: read_own_table(str(path), "units", "day", 0.2, "time", HORIZON, FOLDS,
                                   series=("store",)),
            f"{path}: series store=1: dates are not evenly spaced: 2024-01-09 is followed by "
            "2024-01-11 (2 days; the table is daily), row 28; fill the missing days or pass a "
            "daily or weekly table")
    refused(lambda: read_own_table(str(write(tmp_path, panel())), "units", "day", 0.2, "time",
                                   HORIZON, FOLDS, series=("shop",)),
            f"{tmp_path / 'sales.csv'}: no series column 'shop' (columns: day, shelf, "
            "temperature, units, store); pass -P series=<column>[,<column>...]")


def test_a_synthetic_chain_is_one_forecast_task():
    split = split_synthetic_sales(CONFIG.generators[PRODUCT.name], 60, "2023-10-03", 1, 0.2,
                                  "time", FOLDS * HORIZON, stores=3)
    frequency, roles = forecast_task(split.sales, "synthetic", TARGET, DATE, HORIZON, FOLDS,
                                     CONFIG.synthetic_known_ahead, split.series)
    assert frequency.name == "daily" and STORE not in (*roles.known_ahead, *roles.observed)
    assert roles.target_lags == (("previous_days_demand", 1),)
