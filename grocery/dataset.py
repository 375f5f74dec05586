"""Synthetic daily sales (the tutorial's generator, made reproducible) and the split."""

from __future__ import annotations

import hashlib
import math
from typing import NamedTuple

import numpy as np
import pandas as pd

from grocery.config import Generator
from grocery.errors import UserError

TARGET = "demand"
DATE = "date"
FEATURES = [
    "average_temperature",
    "rainfall",
    "weekend",
    "holiday",
    "price_per_kg",
    "promo",
    "previous_days_demand",
]
COLUMNS = [DATE, *FEATURES[:-1], TARGET, FEATURES[-1]]

# The tutorial's effects, as fractions of apples' base demand of 1000 (price -50 per unit of
# price, promo +200, weekend +300) and its price shift of 0.5 per unit of harvest.
_APPLES_MID_PRICE = 1.75
_PRICE_EFFECT = 0.05
_PROMO_EFFECT = 0.2
_WEEKEND_EFFECT = 0.3
_HARVEST_PRICE_SHIFT = 0.5
_INFLATION_PER_YEAR = 0.03
MIN_ROWS_PER_SIDE = 2
SPLITS = ("time", "random")


def seasonal_effect(months: np.ndarray, peak_month: int) -> np.ndarray:
    """A yearly cycle in [-1, 1] that peaks in ``peak_month``.

    The tutorial's ``sin(2pi(m-3)/12) + sin(2pi(m-9)/12)`` is identically zero; this keeps its
    monthly resolution and makes the cycle real.
    """
    return np.cos(2 * np.pi * (months - peak_month) / 12)


def generate_sales(generator: Generator, rows: int, end_date: str, seed: int) -> pd.DataFrame:
    """Daily sales of one product for ``rows`` days ending on ``end_date``.

    The tutorial's formula and draw order (temperature, rainfall, holiday, price, promotion,
    noise) from one seeded generator, with a fixed end date instead of "now", so the same
    arguments always give the same frame. Returns the tutorial's columns.
    """
    return simulate_sales(generator, rows, end_date, seed)[0]


def _dates(rows: int, end_date: str) -> pd.DatetimeIndex:
    """``rows`` consecutive days ending on ``end_date``."""
    if rows <= 0:
        raise UserError(f"rows must be a positive number of days, got {rows}")
    try:
        end = pd.Timestamp(end_date).normalize()
    except ValueError as error:
        raise UserError(f"end_date {end_date!r} is not a date (use YYYY-MM-DD)") from error
    return pd.date_range(end=end, periods=rows, freq="D")


def _draws(generator: Generator, rows: int, seed: int) -> dict[str, np.ndarray]:
    """The random columns, in the tutorial's draw order from one seeded stream."""
    rng = np.random.RandomState(seed)  # the legacy stream np.random.seed() gives the tutorial
    low, high = generator.price_range
    return {
        "temperature": rng.uniform(10, 35, rows),
        "rainfall": rng.exponential(5, rows),
        "holiday": rng.choice([0, 1], rows, p=[0.97, 0.03]),
        "price": rng.uniform(low, high, rows),
        "promo": rng.choice([0, 1], rows, p=[0.85, 0.15]),
        "noise": rng.normal(0, generator.noise_std, rows),
    }


def simulate_sales(
    generator: Generator, rows: int, end_date: str, seed: int
) -> tuple[pd.DataFrame, pd.Series]:
    """``generate_sales``'s frame and the noise each row's demand holds, on the same index.

    The noise is what no model can predict (the normal draw times that day's inflation), so its
    root mean square over some rows is the lowest rmse any model can reach on them.
    """
    dates = _dates(rows, end_date)
    frame, noise = _sales(generator, dates, _draws(generator, rows, seed), dates.year.min())
    frame["previous_days_demand"] = frame[TARGET].shift(1).bfill()
    return frame[COLUMNS], noise


def continue_sales(generator: Generator, sales: pd.DataFrame, horizon: int,
                   seed: int) -> pd.DataFrame:
    """The ``horizon`` days after ``sales`` (a frame ``simulate_sales`` made with ``seed``): what
    then happened, to set a forecast against.

    Drawn by the same formula from seed ``seed + 1``, with inflation counted from the first year
    of ``sales`` (so the level continues) and ``previous_days_demand`` continuing from its last
    demand.
    """
    last = pd.Timestamp(sales[DATE].max())
    dates = pd.date_range(start=last + pd.Timedelta(days=1), periods=horizon, freq="D")
    base_year = pd.Timestamp(sales[DATE].min()).year
    frame, _ = _sales(generator, dates, _draws(generator, horizon, seed + 1), base_year)
    last_demand = sales.loc[sales[DATE] == last, TARGET].iloc[-1]
    frame["previous_days_demand"] = frame[TARGET].shift(1).fillna(last_demand)
    return frame[COLUMNS]


def _sales(generator: Generator, dates: pd.DatetimeIndex, draws: dict[str, np.ndarray],
           base_year: int) -> tuple[pd.DataFrame, pd.Series]:
    """The tutorial's formula on ``dates`` with ``draws``, inflation counted from ``base_year``:
    every column but ``previous_days_demand``, and each row's noise."""
    months = dates.month.to_numpy()
    base, low, high = generator.base_demand, *generator.price_range
    price_scale = ((low + high) / 2) / _APPLES_MID_PRICE
    weekend = (dates.day_of_week >= 5).astype(np.int64)
    promo = np.where(np.isin(months, generator.promo_months), 1, draws["promo"])
    inflation = 1 + _INFLATION_PER_YEAR * (dates.year - base_year).to_numpy()
    harvest = seasonal_effect(months, generator.seasonal_peak_month)
    price = draws["price"] - _HARVEST_PRICE_SHIFT * price_scale * harvest
    demand = (
        base
        - _PRICE_EFFECT * base * price / price_scale
        + generator.seasonal_amplitude * harvest
        + _PROMO_EFFECT * base * promo
        + _WEEKEND_EFFECT * base * weekend
        + draws["noise"]
    ) * inflation
    frame = pd.DataFrame({
        DATE: dates, "average_temperature": draws["temperature"], "rainfall": draws["rainfall"],
        "weekend": weekend, "holiday": draws["holiday"].astype(np.int64), "price_per_kg": price,
        "promo": promo.astype(np.int64), TARGET: demand,
    })
    return frame, pd.Series(draws["noise"] * inflation, index=frame.index, name="noise")


def noise_floor(noise: pd.Series, rows: pd.Index) -> float:
    """The rmse of the realized noise on ``rows``: the error of a model that knew the formula."""
    values = noise.loc[rows].to_numpy()
    return float(np.sqrt(np.mean(values**2)))


def split_sizes(rows: int, validation_fraction: float, split: str) -> tuple[int, int]:
    """(train rows, validation rows) for a split, or a UserError if the split cannot be made."""
    if rows <= 0:
        raise UserError(f"rows must be a positive number of days, got {rows}")
    if not 0 < validation_fraction < 1:
        raise UserError(
            f"validation_fraction must be between 0 and 1 (exclusive), got {validation_fraction}"
        )
    if split not in SPLITS:
        raise UserError(f"unknown split {split!r}; valid splits: {', '.join(SPLITS)}")
    n_validation = math.ceil(rows * validation_fraction)
    n_train = rows - n_validation
    if min(n_train, n_validation) < MIN_ROWS_PER_SIDE:
        raise UserError(
            f"{rows} rows are too few for validation_fraction={validation_fraction}: "
            f"need at least {MIN_ROWS_PER_SIDE} rows in train and in validation"
        )
    return n_train, n_validation


def split_sales(
    frame: pd.DataFrame, validation_fraction: float, split: str = "time", date_column: str = DATE,
    holdout: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split into (train, validation).

    ``time`` keeps the last ``holdout`` days (the backtest's forecast days) for validation, or
    the last ``validation_fraction`` of them without a holdout, so no later day is ever trained
    on; ``random`` is the tutorial's ``train_test_split(random_state=42)``.
    """
    n_train, n_validation = split_sizes(len(frame), validation_fraction, split)
    if holdout:
        n_train, n_validation = len(frame) - holdout, holdout
    if split == "random":
        # Lazy: scikit-learn costs ~0.8 s at start-up, which main and the time split skip.
        from sklearn.model_selection import train_test_split

        train, validation = train_test_split(frame, test_size=n_validation, random_state=42)
        return train, validation
    ordered = frame.sort_values(date_column, kind="stable")
    return ordered.iloc[:n_train], ordered.iloc[n_train:]


class SplitSales(NamedTuple):
    """A product's daily sales, split, and the noise floor of the validation rows (None for a
    user's own table, whose noise is unknown)."""

    sales: pd.DataFrame
    train: pd.DataFrame
    validation: pd.DataFrame
    noise_floor: float | None = None


def split_synthetic_sales(generator: Generator, rows: int, end_date: str, seed: int,
                          validation_fraction: float, split: str,
                          holdout: int | None = None) -> SplitSales:
    """A catalog product's synthetic sales, split, with the noise floor of the validation rows:
    what no model can beat on them, the generator's own noise."""
    sales, noise = simulate_sales(generator, rows, end_date, seed)
    train, validation = split_sales(sales, validation_fraction, split, DATE, holdout)
    return SplitSales(sales, train, validation, noise_floor(noise, validation.index))


def features_and_target(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """The tutorial's model inputs: every column but the date and the target."""
    return frame.drop(columns=[DATE, TARGET]), frame[TARGET]


def content_digest(frame: pd.DataFrame) -> str:
    """A digest of every value, column name and dtype of ``frame`` (row order matters)."""
    hasher = hashlib.sha256()
    hasher.update(repr([(c, str(t)) for c, t in frame.dtypes.items()]).encode())
    hasher.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return hasher.hexdigest()[:16]


def combined_digest(*digests: str) -> str:
    """One digest for several datasets (train and validation make one prepared dataset)."""
    return hashlib.sha256("/".join(digests).encode()).hexdigest()[:16]
