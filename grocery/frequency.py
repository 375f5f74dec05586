"""A sales table's time step (daily or weekly), inferred from its dates, and the days to forecast.

The step decides the seasonal period every scale-free metric and seasonal baseline uses (7 days
in a week, 52 weeks in a year), so it is read from the data once rather than assumed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from grocery.errors import UserError


@dataclass(frozen=True)
class Frequency:
    """One step of a series: its name, its length and the number of steps in its season."""

    name: str
    offset: pd.Timedelta
    season: int


DAILY = Frequency("daily", pd.Timedelta(days=1), 7)
WEEKLY = Frequency("weekly", pd.Timedelta(days=7), 52)
_BY_STEP = {f.offset: f for f in (DAILY, WEEKLY)}


def _days(step: pd.Timedelta) -> str:
    days = step / pd.Timedelta(days=1)
    shown = f"{days:g}"
    return f"{shown} day" if shown == "1" else f"{shown} days"


def _usual_step(steps: np.ndarray, name: str) -> Frequency:
    """The frequency of the most common step (the shortest among ties), or a UserError."""
    values, counts = np.unique(steps, return_counts=True)
    usual = pd.Timedelta(values[np.argmax(counts)])
    if usual not in _BY_STEP:
        raise UserError(f"{name}: dates are mostly {_days(usual)} apart; pass a daily or "
                        "weekly table")
    return _BY_STEP[usual]


def _check_no_repeats(ordered: np.ndarray, steps: np.ndarray, positions: np.ndarray,
                      name: str) -> None:
    """A date that repeats is named with its rows (a series has one row per step)."""
    repeated = np.flatnonzero(steps == np.timedelta64(0))
    if len(repeated):
        day = ordered[repeated[0]]
        rows = sorted(int(positions[i]) + 1 for i in np.flatnonzero(ordered == day))
        raise UserError(f"{name}: date {pd.Timestamp(day).date()} repeats "
                        f"({', '.join(f'row {r}' for r in rows)}); the table needs one row "
                        "per date")


def infer_frequency(dates: pd.Series, name: str, rows: np.ndarray | None = None) -> Frequency:
    """The table's step from its sorted dates, or a UserError naming the first uneven gap.

    Rows in messages count from 1 under the header, in the table's own order; ``rows`` are the
    table's row positions of ``dates`` when they are one series of many (default: 0, 1, ...).
    """
    parsed = pd.to_datetime(pd.Series(dates)).reset_index(drop=True)
    if len(parsed) < 2:
        raise UserError(f"{name}: {len(parsed)} date{'' if len(parsed) == 1 else 's'}; at "
                        "least 2 are needed to tell a daily from a weekly table")
    order = np.argsort(parsed.to_numpy(), kind="stable")
    ordered = parsed.to_numpy()[order]
    positions = order if rows is None else np.asarray(rows)[order]
    steps = np.diff(ordered)
    _check_no_repeats(ordered, steps, positions, name)
    frequency = _usual_step(steps, name)
    uneven = np.flatnonzero(steps != frequency.offset.to_timedelta64())
    if len(uneven):
        first = uneven[0]
        before, after = pd.Timestamp(ordered[first]), pd.Timestamp(ordered[first + 1])
        row = positions[first + 1] + 1
        raise UserError(f"{name}: dates are not evenly spaced: {before.date()} is followed by "
                        f"{after.date()} ({_days(after - before)}; the table is "
                        f"{frequency.name}), row {row}; fill the missing "
                        f"{'days' if frequency is DAILY else 'weeks'} or pass a daily or "
                        "weekly table")
    return frequency


def future_dates(origin: pd.Timestamp, horizon: int, frequency: Frequency) -> pd.DatetimeIndex:
    """The ``horizon`` dates after the forecast origin (the last day with a known target)."""
    return pd.DatetimeIndex(pd.Timestamp(origin) + frequency.offset * np.arange(1, horizon + 1))
