"""The rules a user's own sales table must keep, and the one-line refusal naming its first break.

Rules: one row per day; a numeric target with a value on every row; a date column that parses;
any other column is a feature (numbers or strings) and may have gaps, which the model imputes,
but may not be entirely empty. Rows in messages count from 1, the first row under the header.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from grocery.dataset import split_sizes
from grocery.errors import UserError
from grocery.feature_columns import DERIVED, is_categorical


def _row(position: int) -> str:
    return f"row {position + 1}"


def _show(value: object) -> str:
    """A cell as the user wrote it (numpy scalars as plain numbers)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


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


def _check_features(frame: pd.DataFrame, name: str, target: str, date_column: str) -> None:
    """Every other column holds numbers or strings, and not only gaps."""
    for column in frame.columns:
        if column in (target, date_column):
            continue
        series = frame[column]
        if series.isna().all():
            raise UserError(f"{name}: feature column {column!r} is entirely empty; drop it or "
                            "fill it")
        if not (is_categorical(series) or pd.api.types.is_numeric_dtype(series)):
            raise UserError(f"{name}: feature column {column!r} holds {series.dtype}; features "
                            "must be numbers or strings")


def validate_sales(frame: pd.DataFrame, name: str, target: str, date_column: str,
                   validation_fraction: float, split: str) -> pd.DataFrame:
    """``frame`` with its dates parsed, or a UserError for its first problem."""
    if frame.empty:
        raise UserError(f"{name}: the file has a header but no rows")
    _check_columns(frame, name, target, date_column)
    _check_target(frame[target], name, target)
    dates = _parse_dates(frame, name, date_column)
    _check_one_row_per_day(dates, name)
    try:
        split_sizes(len(frame), validation_fraction, split)
    except UserError as error:
        raise UserError(f"{name}: {error}") from None
    _check_features(frame, name, target, date_column)
    checked = frame.copy()
    checked[date_column] = dates
    checked[target] = frame[target].astype(np.float64)
    return checked
