"""The rules a user's own sales table must keep, and the one-line refusal naming its first break.

Rules: one row per day; a numeric target with a value on every row; a date column that parses;
any other column is a feature (numbers or strings) and may have gaps, which the model imputes,
but may not be entirely empty. Rows in messages count from 1, the first row under the header.
A table of many series names its key columns (``series``): each must be there with a value on
every row, each series has one row per day, and every series covers the same dates (a balanced
panel: the backtest's origins are dates all series share).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from grocery.dataset import split_sizes
from grocery.errors import UserError
from grocery.feature_columns import DERIVED, is_categorical
from grocery.series import TOTAL


def _row(position: int) -> str:
    return f"row {position + 1}"


def _plain(value: object) -> object:
    """A cell as the user wrote it (numpy scalars as plain numbers)."""
    return value.item() if isinstance(value, np.generic) else value


def _show(value: object) -> str:
    return repr(_plain(value))


def _parse_dates(frame: pd.DataFrame, name: str, date_column: str) -> pd.Series:
    column = frame[date_column]
    if pd.api.types.is_datetime64_any_dtype(column):
        parsed = column
    elif pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        parsed = pd.Series(pd.NaT, index=column.index)
    else:
        parsed = pd.to_datetime(column, errors="coerce", format="mixed")
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        first = bad[0]
        raise UserError(f"{name}: date column {date_column!r} has {len(bad)} value"
                        f"{'s' if len(bad) > 1 else ''} that {'are' if len(bad) > 1 else 'is'} "
                        f"not a date, first {_show(column.iloc[first])} at {_row(first)}")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed


def _check_columns(frame: pd.DataFrame, name: str, target: str, date_column: str) -> None:
    """The target and date columns are there, and no column takes a derived feature's name."""
    columns = ", ".join(map(str, frame.columns))
    for what, column, param in (("target", target, "target"),
                                ("date", date_column, "date_column")):
        if column not in frame.columns:
            raise UserError(f"{name}: no {what} column {column!r} (columns: {columns}); "
                            f"pass -P {param}=<column>")
    reserved = [c for c in frame.columns if c in DERIVED]
    if reserved:
        raise UserError(f"{name}: column {reserved[0]!r} has the name of a derived feature; "
                        "rename it")


def _check_target(values: pd.Series, name: str, target: str) -> None:
    """Every row has a finite number as its target."""
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        numbers = pd.to_numeric(values, errors="coerce")
        first = np.flatnonzero((numbers.isna() & values.notna()).to_numpy())
        example = (f", first {_show(values.iloc[first[0]])} at {_row(first[0])}" if len(first)
                   else "")
        raise UserError(f"{name}: target column {target!r} is not numeric "
                        f"({values.dtype}{example})")
    bad = np.flatnonzero(~np.isfinite(values.to_numpy(dtype=np.float64, na_value=np.nan)))
    if len(bad):
        raise UserError(f"{name}: target column {target!r} has {len(bad)} missing or infinite "
                        f"value{'s' if len(bad) > 1 else ''}, first at {_row(bad[0])}; every "
                        "row needs a target")


def _check_one_row_per_day(dates: pd.Series, name: str) -> None:
    repeated = np.flatnonzero(dates.duplicated(keep=False).to_numpy())
    if len(repeated):
        day = dates.iloc[repeated[0]]
        rows = [_row(i) for i in repeated if dates.iloc[i] == day]
        raise UserError(f"{name}: date {day.date()} repeats ({', '.join(rows)}); the table "
                        "needs one row per day")


def _check_features(frame: pd.DataFrame, name: str, target: str, date_column: str,
                    series: tuple[str, ...] = ()) -> None:
    """Every other column (not a series key) holds numbers or strings, and not only gaps."""
    for column in frame.columns:
        if column in (target, date_column, *series):
            continue
        values = frame[column]
        if values.isna().all():
            raise UserError(f"{name}: feature column {column!r} is entirely empty; drop it or "
                            "fill it")
        if not (is_categorical(values) or pd.api.types.is_numeric_dtype(values)):
            raise UserError(f"{name}: feature column {column!r} holds {values.dtype}; features "
                            "must be numbers or strings")


def series_label(series: tuple[str, ...], key: object) -> str:
    """How messages name one series: ``series store_id=S0002`` (``key``: its key values, a
    tuple when there are several key columns)."""
    values = key if isinstance(key, tuple) else (key,)
    return "series " + " ".join(f"{column}={_plain(value)}"
                                for column, value in zip(series, values, strict=True))


def series_codes(frame: pd.DataFrame, series: tuple[str, ...]) -> np.ndarray:
    """Each row's series as a number, 0 for the series of the first row, 1 for the next new one,
    and so on in the table's order."""
    return frame.groupby(list(series), sort=False, dropna=False).ngroup().to_numpy()


def first_series_rows(frame: pd.DataFrame, series: tuple[str, ...]) -> np.ndarray:
    """The positions of the rows of the table's first series."""
    return np.flatnonzero(series_codes(frame, series) == 0)


def series_key(frame: pd.DataFrame, series: tuple[str, ...], position: int) -> object:
    """The key of the series of the row at ``position``: a value, or a tuple of several."""
    values = tuple(frame[column].iloc[position] for column in series)
    return values if len(values) > 1 else values[0]


def _check_series_columns(frame: pd.DataFrame, name: str, target: str, date_column: str,
                          series: tuple[str, ...]) -> None:
    """Every key column is there, is neither the target nor the date, and has no gap."""
    columns = ", ".join(map(str, frame.columns))
    for column in series:
        if column not in frame.columns:
            raise UserError(f"{name}: no series column {column!r} (columns: {columns}); pass "
                            "-P series=<column>[,<column>...]")
        if column in (target, date_column):
            raise UserError(f"{name}: series column {column!r} is the "
                            f"{'target' if column == target else 'date'}; a series key names "
                            "which series a row belongs to")
        gaps = np.flatnonzero(frame[column].isna().to_numpy())
        if len(gaps):
            raise UserError(f"{name}: series column {column!r} has {len(gaps)} missing "
                            f"value{'s' if len(gaps) > 1 else ''}, first at {_row(gaps[0])}; "
                            "every row needs its series")
        reserved = np.flatnonzero((frame[column].astype(str) == TOTAL).to_numpy())
        if len(reserved):
            raise UserError(f"{name}: series column {column!r} holds {TOTAL!r} at "
                            f"{_row(reserved[0])}, the name a forecast gives its series' "
                            "bottom-up total; rename that series")


_COUNTS = {2: "two", 3: "three"}


def _check_one_row_per_series_day(frame: pd.DataFrame, dates: pd.Series, name: str,
                                  series: tuple[str, ...]) -> None:
    """No series has two rows for one date."""
    keyed = pd.DataFrame({i: frame[column] for i, column in enumerate(series)} |
                         {len(series): dates})
    repeated = np.flatnonzero(keyed.duplicated(keep=False).to_numpy())
    if len(repeated):
        first = keyed.iloc[repeated[0]]
        same = repeated[(keyed.iloc[repeated] == first).all(axis=1).to_numpy()]
        count = _COUNTS.get(len(same), str(len(same)))
        raise UserError(f"{name}: {series_label(series, series_key(frame, series, same[0]))} has "
                        f"{count} rows for {dates.iloc[same[0]].date()} "
                        f"({', '.join(_row(i) for i in same)}); a series needs one row per day")


def _check_same_dates(frame: pd.DataFrame, dates: pd.Series, name: str,
                      series: tuple[str, ...]) -> int:
    """The number of dates every series covers, or a UserError naming the first series (in the
    table's order) that lacks a date another has."""
    codes = series_codes(frame, series)
    every = np.sort(pd.unique(dates.to_numpy()))
    short = np.flatnonzero(np.bincount(codes) < len(every))
    if len(short):
        rows = np.flatnonzero(codes == short[0])
        lacking = every[~np.isin(every, dates.to_numpy()[rows])]
        more = (f" (and {len(lacking) - 1} more date{'s' if len(lacking) > 2 else ''})"
                if len(lacking) > 1 else "")
        raise UserError(f"{name}: {series_label(series, series_key(frame, series, rows[0]))} has "
                        f"no row for {pd.Timestamp(lacking[0]).date()}{more}, which other series "
                        "have; every series needs the same dates")
    return len(every)


def _check_dates(frame: pd.DataFrame, dates: pd.Series, name: str,
                 series: tuple[str, ...]) -> int:
    """The number of dates in each series, once each has one row per day and (with ``series``)
    all have the same dates."""
    if not series:
        _check_one_row_per_day(dates, name)
        return len(frame)
    _check_one_row_per_series_day(frame, dates, name, series)
    return _check_same_dates(frame, dates, name, series)


def validate_sales(frame: pd.DataFrame, name: str, target: str, date_column: str,
                   validation_fraction: float, split: str,
                   series: tuple[str, ...] = ()) -> pd.DataFrame:
    """``frame`` with its dates parsed, or a UserError for its first problem; with ``series``
    (key columns, kept as given) every series is checked."""
    if frame.empty:
        raise UserError(f"{name}: the file has a header but no rows")
    _check_columns(frame, name, target, date_column)
    _check_series_columns(frame, name, target, date_column, series)
    _check_target(frame[target], name, target)
    dates = _parse_dates(frame, name, date_column)
    days = _check_dates(frame, dates, name, series)
    try:
        split_sizes(days if split == "time" else len(frame), validation_fraction, split)
    except UserError as error:
        raise UserError(f"{name}: {error}") from None
    _check_features(frame, name, target, date_column, series)
    checked = frame.copy()
    checked[date_column] = dates
    checked[target] = frame[target].astype(np.float64)
    return checked
