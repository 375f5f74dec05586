"""A user's own sales table: read it and refuse it, with one line naming the file and the problem.

Rules: one row per day; a numeric target with a value on every row; a date column that parses;
any other column is a feature (numbers or strings) and may have gaps, which the model imputes,
but may not be entirely empty. Rows in messages count from 1, the first row under the header.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from grocery.dataset import split_sizes
from grocery.errors import UserError
from grocery.features import DERIVED, is_categorical

SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def table_kind(name: str) -> str:
    """``csv`` or ``parquet`` from the name's suffix (of a path or of a URI's path)."""
    suffix = Path(name.split("?", 1)[0]).suffix.lower()
    if suffix not in SUFFIXES:
        raise UserError(f"{name}: not a .csv or .parquet file; name the file with one of those "
                        "suffixes")
    return SUFFIXES[suffix]


def read_sales(path: Path, name: str) -> pd.DataFrame:
    """The table in ``path`` (a local copy of ``name``, which messages call it by)."""
    kind = table_kind(name)
    if not path.exists():
        where = "" if str(path.resolve()) == name else f" (looked for {path.resolve()})"
        raise UserError(f"{name}: no such file{where}")
    if path.is_file() and path.stat().st_size == 0:
        raise UserError(f"{name}: the file is empty")
    try:
        frame = pd.read_csv(path) if kind == "csv" else pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        raise UserError(f"{name}: the file is empty") from None
    except (OSError, ValueError, pd.errors.ParserError) as error:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise UserError(f"{name}: cannot read it as {kind}: {reason}") from None
    if len(frame.columns) == 0:
        raise UserError(f"{name}: the file is empty")
    if frame.empty:
        raise UserError(f"{name}: the file has a header but no rows")
    return frame


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


def validate_sales(frame: pd.DataFrame, name: str, target: str, date_column: str,
                   validation_fraction: float, split: str) -> pd.DataFrame:
    """``frame`` with its dates parsed, or a UserError for its first problem."""
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

    values = frame[target]
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

    dates = _parse_dates(frame, name, date_column)
    repeated = np.flatnonzero(dates.duplicated(keep=False).to_numpy())
    if len(repeated):
        day = dates.iloc[repeated[0]]
        rows = [_row(i) for i in repeated if dates.iloc[i] == day]
        raise UserError(f"{name}: date {day.date()} repeats ({', '.join(rows)}); the table "
                        "needs one row per day")

    try:
        split_sizes(len(frame), validation_fraction, split)
    except UserError as error:
        raise UserError(f"{name}: {error}") from None

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

    checked = frame.copy()
    checked[date_column] = dates
    checked[target] = values.astype(np.float64)
    return checked
