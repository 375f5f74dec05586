"""A user's own sales table: fetched from wherever it lives, read and checked, in one place.

``data`` is a path, or a ``file://``, ``http(s)://`` or ``runs:/`` URI, or ``env:NAME`` for one
kept in the environment variable NAME (a pre-signed link: MLflow records ``-P data=...`` as a
parameter, verbatim); messages and records name the path as given, a URL without its
credentials and query string.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.error import URLError
from urllib.parse import unquote, urlsplit
from urllib.request import urlopen

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException

from grocery.backtest import check_backtest, min_train_rows
from grocery.config import Config, Product
from grocery.dataset import DATE, TARGET, SplitSales, split_sales
from grocery.errors import UserError, first_line
from grocery.frequency import Frequency, infer_frequency
from grocery.roles import ColumnRoles, column_roles
from grocery.tables import read_table
from grocery.uris import public_location
from grocery.validation import first_series_rows, series_key, series_label, validate_sales

_ARTIFACT_SCHEMES = ("runs", "mlflow-artifacts")
_CHUNK = 1 << 20
ENV_PREFIX = "env:"  # data=env:NAME: the address is in the environment variable NAME


def _download(data: str, target: Path) -> Path:
    """``data`` (an http(s) URL) saved as ``target``."""
    try:
        with urlopen(data, timeout=60) as answer, target.open("wb") as out:
            while chunk := answer.read(_CHUNK):
                out.write(chunk)
    except (URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        raise UserError(f"{public_location(data)}: cannot download it: {reason}") from None
    return target


def data_address(data: str) -> str:
    """Where ``data`` lives: as given, or for ``env:NAME`` the address in that environment
    variable, so that a pre-signed link's signature never becomes an MLflow parameter."""
    if not data.startswith(ENV_PREFIX):
        return data
    name = data.removeprefix(ENV_PREFIX)
    if not os.environ.get(name):
        raise UserError(f"{data}: the environment variable {name} is not set; export it with "
                        "the table's path or URL")
    return os.environ[name]


def data_name(data: str) -> str:
    """What messages and records call ``data``: where it lives, without user name, password or
    query string (a pre-signed link's signature); a path as given."""
    return public_location(data_address(data))


def fetch_data(data: str, folder: Path) -> Path:
    """A local path to the user's table ``data``; remote files are downloaded into ``folder``.

    A missing remote file raises a UserError; a missing local one is left for the reader to
    report (it says where it looked).
    """
    data = data_address(data)
    parts = urlsplit(data)
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    if parts.scheme in ("http", "https"):
        return _download(data, folder / (Path(unquote(parts.path)).name or "data"))
    if parts.scheme and parts.scheme not in _ARTIFACT_SCHEMES:
        raise UserError(f"{data}: unsupported location; give a path or a file://, http(s):// "
                        "or runs:/ URI")
    if parts.scheme:
        try:
            local = mlflow.artifacts.download_artifacts(artifact_uri=data, dst_path=str(folder))
        except (MlflowException, OSError) as error:
            raise UserError(f"{data}: cannot download it: {first_line(error)}") from None
        return Path(local)
    return Path(data)


def read_own_table(data: str, target: str, date_column: str, validation_fraction: float,
                   split: str, horizon: int = 14, folds: int = 5,
                   known_ahead: tuple[str, ...] = (),
                   series: tuple[str, ...] = ()) -> pd.DataFrame:
    """The user's table with its dates parsed, or a UserError naming ``data`` and its first
    problem (grocery/validation.py holds the rules; it must also be forecastable); ``series``
    names its key columns if it holds many series."""
    name = data_name(data)
    with tempfile.TemporaryDirectory(prefix="grocery-data-") as folder:
        frame = read_table(fetch_data(data, Path(folder)), name)
    checked = validate_sales(frame, name, target, date_column, validation_fraction, split,
                             series)
    forecast_task(checked, name, target, date_column, horizon, folds, known_ahead, series)
    return checked


def forecast_task(frame: pd.DataFrame, name: str, target: str, date_column: str, horizon: int,
                  folds: int, known_ahead: tuple[str, ...],
                  series: tuple[str, ...] = ()) -> tuple[Frequency, ColumnRoles]:
    """The table's frequency and column roles, or a UserError naming ``name``: dates not evenly
    daily or weekly, too few rows for ``horizon`` and ``folds``, a bad known-ahead column. With
    ``series`` (a validated table: every series has the same dates) the frequency and the
    number of days are read from the first series, and the message names it."""
    dates, where, rows = frame[date_column], name, None
    if series:
        rows = first_series_rows(frame, series)
        dates = dates.iloc[rows]
        where = f"{name}: {series_label(series, series_key(frame, series, rows[0]))}"
    frequency = infer_frequency(dates, where, rows)
    try:
        check_backtest(horizon, folds, len(dates), min_train_rows(frequency.season))
        roles = column_roles(frame, target, date_column, known_ahead, frequency.season, series)
    except UserError as error:
        raise UserError(f"{name}: {error}") from None
    return frequency, roles


def split_own_table(data: str, target: str, date_column: str, validation_fraction: float,
                    split: str, horizon: int = 14, folds: int = 5,
                    known_ahead: tuple[str, ...] = (),
                    series: tuple[str, ...] = ()) -> SplitSales:
    """The user's table, read, checked and split for training (its noise floor is unknown):
    by time, the backtest's last ``folds`` x ``horizon`` dates (of every series) are
    validation."""
    sales = read_own_table(data, target, date_column, validation_fraction, split, horizon, folds,
                           known_ahead, series)
    holdout = folds * horizon if split == "time" else None
    train, validation = split_sales(sales, validation_fraction, split, date_column, holdout,
                                    series)
    return SplitSales(sales, train, validation, None, series)


def prepared_product(config: Config, name: str, data: str, department: str, target: str,
                     date_column: str, known_ahead: str = "") -> Product:
    """The product prepare makes data for: with ``data``, any valid product (the catalog's or a
    new one in ``department``); without, a catalog product and none of the own-data parameters."""
    if data:
        return config.find_product(name, department)
    product = config.product(name)
    if (target, date_column, department, known_ahead) != (TARGET, DATE, "", ""):
        raise UserError("target, date_column, department and known_ahead apply to your own "
                        "data only; pass -P data=<csv or parquet file>")
    return product


def known_product(config: Config, name: str, data: str, department: str) -> Product | None:
    """The product a prepare run is tagged and hinted with, if its name is valid, else None:
    errors are raised later, inside the run, so that the run records them."""
    try:
        return config.find_product(name, department) if data else config.products.get(name)
    except UserError:
        return None
