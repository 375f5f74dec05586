"""Many series in one table (a product in each of its stores): each series' level, its label,
per-series scores and the bottom-up total.

A global model fits every series at once on the target divided by the series' level (its mean
over the last weeks before the origin), with the log of that level as a feature: stores of very
different size then share one demand shape. Pure pandas and NumPy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from grocery.errors import UserError

LEVEL = "level"  # a series' level at the origin: a backtest column and the global model's scale
SERIES_LEVEL = "series_level"  # the global model's feature: log of the level
LEVEL_SEASONS = 4  # the level is the mean of the last four seasons (weeks) before the origin
TOTAL = "total"  # the series label of the bottom-up sum of every series
ACTUAL = "actual"  # what happened on a forecast day, beside the forecast
SERIES = "series"  # the per-series metrics table's label column
# Per-series scores summarised as run metrics, and the quantile of the worst tail.
SUMMARY_QUANTILE = 0.9


def series_labels(frame: pd.DataFrame, series: Sequence[str]) -> pd.Series:
    """One text label per row naming its series: the key's value, or ``a|b`` for several keys."""
    if len(series) == 1:
        return frame[series[0]].astype(str)
    return frame[list(series)].astype(str).agg("|".join, axis=1)


def series_count(frame: pd.DataFrame, series: Sequence[str]) -> int:
    """How many series ``frame`` holds: one when it names no key."""
    return int(series_labels(frame, series).nunique()) if series else 1


def series_positions(frame: pd.DataFrame, series: Sequence[str]) -> dict[str, np.ndarray]:
    """Each series label's row positions in ``frame``, in order of first appearance."""
    labels = series_labels(frame, series).to_numpy()
    return pd.Series(np.arange(len(frame))).groupby(labels, sort=False).indices


def series_levels(history: pd.DataFrame, series: Sequence[str], target: str,
                  season: int) -> pd.DataFrame:
    """Each series' level at the end of ``history`` (rows in date order): the mean absolute
    target of its last four seasons, or 1 where that is 0 (a series with no sales yet)."""
    recent = history.groupby(list(series), sort=True).tail(LEVEL_SEASONS * season)
    levels = recent[target].abs().groupby([recent[c] for c in series], sort=True).mean()
    return levels.where(levels > 0, 1.0).rename(LEVEL).reset_index()


def with_levels(frame: pd.DataFrame, levels: pd.DataFrame,
                series: Sequence[str]) -> pd.DataFrame:
    """``frame`` with each row's series level (``level``) and its log (``series_level``), in
    ``frame``'s order; a UserError names a series that has rows but no history."""
    merged = frame.merge(levels, on=list(series), how="left", validate="many_to_one")
    unknown = merged[LEVEL].isna().to_numpy()
    if unknown.any():
        label = series_labels(merged.iloc[[int(np.argmax(unknown))]], series).iloc[0]
        raise UserError(f"series {label} has rows to forecast but no history rows: give its "
                        "days up to the forecast origin with their target")
    merged.index = frame.index
    return merged.assign(**{SERIES_LEVEL: np.log(merged[LEVEL].to_numpy(dtype=np.float64))})


def totals(frame: pd.DataFrame, keys: Sequence[str] = ("fold", "origin", "h", "date")
           ) -> pd.DataFrame:
    """The bottom-up total: actual and forecast summed over the series, per ``keys``."""
    columns = [c for c in ("actual", "forecast") if c in frame]
    return frame.groupby(list(keys), sort=True)[columns].sum().reset_index()


def with_total(forecast: pd.DataFrame, series: Sequence[str], date_column: str,
               summed: Sequence[str]) -> pd.DataFrame:
    """``forecast`` (one row per series and day) with the bottom-up total appended: per day, the
    ``summed`` columns added over the series, under the label ``total`` in every key column
    (keys as text). Other columns (a band, which does not add up) stay empty there."""
    rows = forecast.astype({key: str for key in series})
    total = rows.groupby(date_column, as_index=False, sort=True)[list(summed)].sum()
    total = total.assign(**{key: TOTAL for key in series})
    return pd.concat([rows, total[[c for c in rows.columns if c in total]]],
                     ignore_index=True)


def department_total(forecasts: dict[str, pd.DataFrame], department: str,
                     date_column: str, summed: Sequence[str]) -> pd.DataFrame:
    """Products' forecasts in one table (``product`` first), then per day the department's
    bottom-up total (product ``department``): the sum of each product's own total (its
    ``total`` rows, or its only series' rows)."""
    frames, own_totals, keys = [], [], set()
    for product, frame in forecasts.items():
        own = list(frame.columns[:frame.columns.get_loc(date_column)])
        keys.update(own)
        frames.append(frame.assign(product=product))
        own_totals.append(frame[frame[own[0]] == TOTAL] if own else frame)
    columns = [c for c in summed if all(c in f for f in own_totals)]
    total = pd.concat(own_totals).groupby(date_column, as_index=False, sort=True)[columns].sum()
    total = total.assign(product=department, **{key: TOTAL for key in keys})
    table = pd.concat([*frames, total], ignore_index=True)
    return table[["product", *[c for c in table.columns if c != "product"]]]


def per_series_scores(frame: pd.DataFrame, series: Sequence[str]) -> pd.DataFrame:
    """One row per series: its rmse, mae and MASE over the backtest rows (each scaled by its
    own fold's scale) and, with bands, its 80% and 95% coverage."""
    error = frame["actual"].to_numpy() - frame["forecast"].to_numpy()
    parts = pd.DataFrame({SERIES: series_labels(frame, series).to_numpy(),
                          "squared": error**2, "absolute": np.abs(error),
                          "scaled": np.abs(error) / frame["mae_scale"].to_numpy()})
    for label in ("80", "95"):
        if f"lower_{label}" in frame:
            actual = frame["actual"].to_numpy()
            parts[f"coverage_{label}"] = ((frame[f"lower_{label}"].to_numpy() <= actual)
                                          & (actual <= frame[f"upper_{label}"].to_numpy()))
    means = parts.groupby(SERIES, sort=True).mean()
    result = pd.DataFrame({"rmse": np.sqrt(means["squared"]), "mae": means["absolute"],
                           "mase": means["scaled"]}, index=means.index)
    for column in ("coverage_80", "coverage_95"):
        if column in means:
            result[column] = means[column].astype(np.float64)
    return result.reset_index()


def summary_metrics(scores: pd.DataFrame) -> dict[str, float]:
    """The per-series MASE as run metrics: mean, median and 90th percentile, and the count."""
    mase = scores["mase"].to_numpy(dtype=np.float64)
    finite = mase[np.isfinite(mase)]
    if len(finite) == 0:
        return {"series_count": float(len(scores))}
    return {"series_count": float(len(scores)), "series_mase_mean": float(np.mean(finite)),
            "series_mase_median": float(np.median(finite)),
            "series_mase_p90": float(np.quantile(finite, SUMMARY_QUANTILE))}


def worst_series(scores: pd.DataFrame) -> str:
    """The label of the series with the highest MASE (ties: the first by label)."""
    mase = scores["mase"].fillna(-math.inf).to_numpy()
    return str(scores[SERIES].iloc[int(np.argmax(mase))])


def chunks_of_series(frame: pd.DataFrame, series: Sequence[str], chunks: int
                     ) -> list[pd.DataFrame]:
    """``frame`` cut into at most ``chunks`` frames of whole series, in series order, so a
    worker gets its own series' rows and never a copy of all of them."""
    codes = frame.groupby(list(series), sort=True).ngroup().to_numpy()
    count = int(codes.max()) + 1 if len(codes) else 0
    bounds = np.linspace(0, count, min(chunks, count) + 1).round().astype(int)
    return [frame[(codes >= low) & (codes < high)]
            for low, high in zip(bounds[:-1], bounds[1:], strict=True) if high > low]
