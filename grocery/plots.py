"""Evaluation pictures of a fitted model on the validation rows, as matplotlib figures."""

from __future__ import annotations

import numpy as np
import pandas as pd

# Figures made directly, never through pyplot: files only, no window, no figure left open.
from matplotlib.figure import Figure

# Enough points to see the fit; more only slows the plots down.
MAX_POINTS = 2000


def _sample(frame: pd.DataFrame) -> pd.DataFrame:
    return frame if len(frame) <= MAX_POINTS else frame.sample(MAX_POINTS, random_state=0)


def predicted_vs_actual(actual: np.ndarray, predicted: np.ndarray, title: str) -> Figure:
    rows = _sample(pd.DataFrame({"actual": actual, "predicted": predicted}))
    figure = Figure(figsize=(6, 6))
    axes = figure.subplots()
    axes.scatter(rows["actual"], rows["predicted"], s=8, alpha=0.5)
    low = float(min(rows["actual"].min(), rows["predicted"].min()))
    high = float(max(rows["actual"].max(), rows["predicted"].max()))
    axes.plot([low, high], [low, high], color="black", linewidth=1, label="perfect forecast")
    axes.set(xlabel="actual", ylabel="predicted", title=title)
    axes.legend()
    figure.tight_layout()
    return figure


def residuals_over_time(dates: pd.Series, actual: np.ndarray, predicted: np.ndarray,
                        title: str) -> Figure:
    rows = _sample(pd.DataFrame({"date": pd.to_datetime(dates).to_numpy(),
                                 "residual": actual - predicted})).sort_values("date")
    figure = Figure(figsize=(9, 4))
    axes = figure.subplots()
    axes.plot(rows["date"], rows["residual"], marker=".", linewidth=0.5)
    axes.axhline(0, color="black", linewidth=1)
    axes.set(xlabel="date", ylabel="actual - predicted", title=title)
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure


def fan_chart(history: pd.DataFrame, forecasts: pd.DataFrame, title: str) -> Figure:
    """The last origin's forecast with its 80% and 95% bands against what then happened.

    ``history`` has columns date and actual (the days before the origin); ``forecasts`` has
    date, actual, forecast and the held-out bands lower/upper_80 and lower/upper_95.
    """
    figure = Figure(figsize=(9, 4))
    axes = figure.subplots()
    axes.plot(history["date"], history["actual"], color="black", linewidth=1, label="history")
    axes.fill_between(forecasts["date"], forecasts["lower_95"], forecasts["upper_95"],
                      alpha=0.2, color="tab:blue", label="95% interval")
    axes.fill_between(forecasts["date"], forecasts["lower_80"], forecasts["upper_80"],
                      alpha=0.35, color="tab:blue", label="80% interval")
    axes.plot(forecasts["date"], forecasts["forecast"], color="tab:blue", label="forecast")
    axes.plot(forecasts["date"], forecasts["actual"], "o", color="black", markersize=3,
              label="actual")
    axes.axvline(history["date"].iloc[-1], color="grey", linestyle="--", linewidth=1)
    axes.set(xlabel="date", ylabel="demand", title=title)
    axes.legend(loc="upper left", fontsize="small")
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure


def error_by_horizon(tables: dict[str, pd.DataFrame], title: str) -> Figure:
    """rmse per step ahead for the model and each baseline (tables indexed by h)."""
    figure = Figure(figsize=(7, 4))
    axes = figure.subplots()
    for name, table in tables.items():
        axes.plot(table.index, table["rmse"], marker="o", markersize=3, label=name,
                  linewidth=2 if name == "model" else 1)
    axes.set(xlabel="steps ahead (h)", ylabel="rmse over the backtest folds", title=title)
    axes.set_ylim(bottom=0)
    axes.legend(fontsize="small")
    figure.tight_layout()
    return figure
