"""What each column of a sales table may tell a forecast made at an origin.

A column known ahead (planned price, promotion, calendar) has a value for every day to forecast;
an observed column (the weather as it turned out) is known only up to the origin; a column that
is the target's own lag is recomputed from the target, so it is never read from the table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from grocery.errors import UserError

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


def parse_known_ahead(text: str) -> tuple[str, ...]:
    """Column names from a comma-separated parameter (spaces stripped; empty gives none)."""
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _lag_of(column: pd.Series, target: pd.Series, max_lag: int) -> int | None:
    """The smallest k for which ``column`` is the target k rows earlier, if any."""
    values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    for k in range(1, max_lag + 1):
        shifted = target.shift(k).to_numpy(dtype=np.float64, na_value=np.nan)
        both = ~np.isnan(values) & ~np.isnan(shifted)
        if both.any() and np.isclose(values[both], shifted[both]).mean() >= LAG_AGREEMENT:
            return k
    return None


def detect_target_lags(frame: pd.DataFrame, target: str, columns: list[str] | tuple[str, ...],
                       max_lag: int) -> dict[str, int]:
    """Numeric ``columns`` that are the target's own lag k (1..max_lag), rows in time order.

    A copy of yesterday's demand is only known one day ahead; found here, it can be recomputed
    from the target at each horizon instead of leaking the future into a forecast.
    """
    found = {}
    for name in columns:
        series = frame[name]
        if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        k = _lag_of(series, frame[target], max_lag)
        if k is not None:
            found[name] = k
    return found


def _check_known_ahead(frame: pd.DataFrame, target: str, date_column: str,
                       known_ahead: tuple[str, ...]) -> None:
    """Every known-ahead name is a column other than the target and the date."""
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


def column_roles(frame: pd.DataFrame, target: str, date_column: str,
                 known_ahead: tuple[str, ...] | list[str], max_lag: int) -> ColumnRoles:
    """Each column's role: named known ahead, a detected target lag, or else observed."""
    columns = ", ".join(map(str, frame.columns))
    for what, name in (("target", target), ("date", date_column)):
        if name not in frame.columns:
            raise UserError(f"no {what} column {name!r} in the table (columns: {columns})")
    named = tuple(dict.fromkeys(known_ahead))
    _check_known_ahead(frame, target, date_column, named)
    others = [c for c in frame.columns if c not in (target, date_column)]
    lags = detect_target_lags(frame, target, others, max_lag)
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
