"""What each column of a sales table may tell a forecast made at an origin.

A column known ahead (planned price, promotion, calendar) has a value for every day to forecast;
an observed column (the weather as it turned out) is known only up to the origin; a column that
is the target's own lag is recomputed from the target, so it is never read from the table. In a
table of many series the key columns are none of these, and a lag is one within its series.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from grocery.errors import UserError
from grocery.validation import series_codes

# Share of the rows (where both exist) on which a column must equal the shifted target.
LAG_AGREEMENT = 0.99


@dataclass(frozen=True)
class ColumnRoles:
    """The target, the date, and every other column as known ahead, observed or a target lag."""

    target: str
    date_column: str
    known_ahead: tuple[str, ...]
    observed: tuple[str, ...]
    target_lags: tuple[tuple[str, int], ...]


def parse_columns(text: str) -> tuple[str, ...]:
    """Column names from a comma-separated parameter (spaces stripped; empty gives none)."""
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _agrees(values: np.ndarray, shifted: np.ndarray) -> bool:
    """``values`` equal ``shifted`` on at least ``LAG_AGREEMENT`` of the rows where both exist.

    On a long table the first 1/25 of the rows are read first: if more than 1.1% of all rows
    already disagree there, the share cannot reach 99%, and the rest is never compared (most
    columns are no lag; this saves most of the time on millions of rows).
    """
    head = len(values) // 25
    if head >= 1000 and np.count_nonzero(
            ~np.isclose(values[:head], shifted[:head])
            & ~np.isnan(values[:head]) & ~np.isnan(shifted[:head])) > 0.011 * len(values):
        return False
    both = ~np.isnan(values) & ~np.isnan(shifted)
    return bool(both.any() and np.isclose(values[both], shifted[both]).mean() >= LAG_AGREEMENT)


def _target_shifts(frame: pd.DataFrame, target: str, series: tuple[str, ...],
                   date_column: str | None) -> Callable[[int], np.ndarray]:
    """The target k rows earlier, for a k: in the table's row order, or with ``series`` within
    each row's own series (its rows ordered by ``date_column``, else as they come), NaN where
    there is no such row."""
    if not series:
        return lambda k: frame[target].shift(k).to_numpy(dtype=np.float64, na_value=np.nan)
    codes = series_codes(frame, series)
    order = (np.lexsort((pd.to_datetime(frame[date_column]).to_numpy(), codes)) if date_column
             else np.argsort(codes, kind="stable"))
    values, grouped = frame[target].to_numpy(dtype=np.float64, na_value=np.nan)[order], codes[order]

    def shifted(k: int) -> np.ndarray:
        ordered = np.full(len(order), np.nan)
        ordered[k:] = np.where(grouped[k:] == grouped[:-k], values[:-k], np.nan)
        back = np.empty_like(ordered)
        back[order] = ordered
        return back

    return shifted


def detect_target_lags(frame: pd.DataFrame, target: str, columns: list[str] | tuple[str, ...],
                       max_lag: int, series: tuple[str, ...] = (),
                       date_column: str | None = None) -> dict[str, int]:
    """Numeric ``columns`` that are the target's own lag k (1..max_lag), rows in time order (with
    ``series``, k rows earlier in the row's own series, ordered by ``date_column`` if given).

    A copy of yesterday's demand is only known one day ahead; found here, it can be recomputed
    from the target at each horizon instead of leaking the future into a forecast.
    """
    candidates = {name: frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
                  for name in columns
                  if pd.api.types.is_numeric_dtype(frame[name])
                  and not pd.api.types.is_bool_dtype(frame[name])}
    shifts, found = _target_shifts(frame, target, series, date_column), {}
    for k in range(1, max_lag + 1):
        if not candidates or k >= len(frame):
            break
        shifted = shifts(k)  # once per k, for every column still unexplained
        for name in [n for n, values in candidates.items() if _agrees(values, shifted)]:
            found[name] = k
            del candidates[name]
    return {name: found[name] for name in columns if name in found}


def _check_known_ahead(frame: pd.DataFrame, target: str, date_column: str,
                       known_ahead: tuple[str, ...], series: tuple[str, ...] = ()) -> None:
    """Every known-ahead name is a column other than the target, the date and a series key."""
    columns = ", ".join(map(str, frame.columns))
    for name in known_ahead:
        if name not in frame.columns:
            raise UserError(f"known_ahead column {name!r} is not in the table (columns: "
                            f"{columns})")
        if name == target:
            raise UserError(f"known_ahead column {name!r} is the target; a forecast never "
                            "knows its own target ahead, leave it out of known_ahead")
        if name == date_column:
            raise UserError(f"known_ahead column {name!r} is the date column; the calendar is "
                            "always known ahead, leave it out of known_ahead")
        if name in series:
            raise UserError(f"known_ahead column {name!r} is a series key; it names a series, "
                            "it is not a feature, leave it out of known_ahead")


def column_roles(frame: pd.DataFrame, target: str, date_column: str,
                 known_ahead: tuple[str, ...] | list[str], max_lag: int,
                 series: tuple[str, ...] = ()) -> ColumnRoles:
    """Each column's role: named known ahead, a detected target lag, or else observed; the
    ``series`` key columns have none (a lag is detected within each series)."""
    columns = ", ".join(map(str, frame.columns))
    keys = tuple(("series", name) for name in series)
    for what, name in (("target", target), ("date", date_column), *keys):
        if name not in frame.columns:
            raise UserError(f"no {what} column {name!r} in the table (columns: {columns})")
    named = tuple(dict.fromkeys(known_ahead))
    _check_known_ahead(frame, target, date_column, named, series)
    others = [c for c in frame.columns if c not in (target, date_column, *series)]
    lags = detect_target_lags(frame, target, others, max_lag, series, date_column)
    for name in named:
        if name in lags:
            raise UserError(f"known_ahead column {name!r} is the target's lag {lags[name]} "
                            f"({target} {lags[name]} row(s) earlier), so it is not known ahead; "
                            "it is recomputed from the target, leave it out of known_ahead")
    return ColumnRoles(
        target=target,
        date_column=date_column,
        known_ahead=tuple(c for c in others if c in named),
        observed=tuple(c for c in others if c not in named and c not in lags),
        target_lags=tuple(lags.items()),
    )
