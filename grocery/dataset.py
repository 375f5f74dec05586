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
STORE = "store_id"  # the series key of a chain's synthetic sales (stores > 1)
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
# A chain's stores (stores > 1): each store's demand is the product's times a lognormal level
# (median 1, sd of its log 0.3), its prices sit up to 15% of the price range's width off the
# product's, and its promotion months are the product's shifted by 0-11 months.
_STORE_LEVEL_SD = 0.3
_STORE_PRICE_SHIFT = 0.15
_STORE_TRAITS, _STORE_DAYS = 0, 1  # the two streams of a store's seed: what it is, what happens
MIN_ROWS_PER_SIDE = 2
SPLITS = ("time", "random")


def seasonal_effect(months: np.ndarray, peak_month: int) -> np.ndarray:
    """A yearly cycle in [-1, 1] that peaks in ``peak_month``.

    The tutorial's ``sin(2pi(m-3)/12) + sin(2pi(m-9)/12)`` is identically zero; this keeps its
    monthly resolution and makes the cycle real.
    """
    return np.cos(2 * np.pi * (months - peak_month) / 12)


def generate_sales(generator: Generator, rows: int, end_date: str, seed: int,
                   stores: int = 1) -> pd.DataFrame:
    """Daily sales of one product for ``rows`` days ending on ``end_date``.

    The tutorial's formula and draw order (temperature, rainfall, holiday, price, promotion,
    noise) from one seeded generator, with a fixed end date instead of "now", so the same
    arguments always give the same frame. Returns the tutorial's columns; with ``stores`` > 1,
    a chain's: one series per store, keyed by ``STORE`` (see ``simulate_sales``).
    """
    return simulate_sales(generator, rows, end_date, seed, stores)[0]


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
    generator: Generator, rows: int, end_date: str, seed: int, stores: int = 1
) -> tuple[pd.DataFrame, pd.Series]:
    """``generate_sales``'s frame and the noise each row's demand holds, on the same index.

    The noise is what no model can predict (the normal draw times that day's inflation), so its
    root mean square over some rows is the lowest rmse any model can reach on them. With
    ``stores`` > 1 the frame is a chain's, ``[STORE, *COLUMNS]`` sorted by store then date: store
    k ("S" + k zero-padded to the width of ``stores``) draws its level, price, promotion months
    and days from its own seed (``_store_rng``), so it is the same whatever ``stores`` is.
    """
    dates = _dates(rows, end_date)
    if _check_stores(stores) > 1:
        numbers = np.arange(1, stores + 1)
        ids = [f"S{k:0{len(str(stores))}d}" for k in numbers]
        frame, noise, demand = _chain_sales(generator, ids, numbers, dates, (seed, seed),
                                            dates.year.min())
        return _with_previous_days(frame, demand, demand[:, 0]), noise
    frame, noise = _sales(generator, dates, _draws(generator, rows, seed), dates.year.min())
    frame["previous_days_demand"] = frame[TARGET].shift(1).bfill()
    return frame[COLUMNS], noise


def _check_stores(stores: int) -> int:
    """``stores``, or a UserError if it is not a whole number of 1 or more."""
    if isinstance(stores, bool) or not isinstance(stores, (int, np.integer)) or stores < 1:
        raise UserError(f"stores must be a whole number of 1 or more, got {stores!r}")
    return int(stores)


def continue_sales(generator: Generator, sales: pd.DataFrame, horizon: int,
                   seed: int) -> pd.DataFrame:
    """The ``horizon`` days after ``sales`` (a frame ``simulate_sales`` made with ``seed``): what
    then happened, to set a forecast against.

    Drawn by the same formula from seed ``seed + 1``, with inflation counted from the first year
    of ``sales`` (so the level continues) and ``previous_days_demand`` continuing from its last
    demand. A chain's ``sales`` continue per store: each store keeps what it is (level, price,
    promotion months, drawn from ``seed``) and draws its days from ``seed + 1``.
    """
    last = pd.Timestamp(sales[DATE].max())
    dates = pd.date_range(start=last + pd.Timedelta(days=1), periods=horizon, freq="D")
    base_year = pd.Timestamp(sales[DATE].min()).year
    if STORE in sales.columns:
        return _continue_chain(generator, sales, dates, seed, base_year)
    frame, _ = _sales(generator, dates, _draws(generator, horizon, seed + 1), base_year)
    last_demand = sales.loc[sales[DATE] == last, TARGET].iloc[-1]
    frame["previous_days_demand"] = frame[TARGET].shift(1).fillna(last_demand)
    return frame[COLUMNS]


def _continue_chain(generator: Generator, sales: pd.DataFrame, dates: pd.DatetimeIndex,
                    seed: int, base_year: int) -> pd.DataFrame:
    """``continue_sales`` for a chain: every store of ``sales`` (its number read from its id)
    continued from its own last demand."""
    ids = list(pd.unique(sales[STORE]))
    numbers = np.array([int(str(store).lstrip("S")) for store in ids])
    frame, _, demand = _chain_sales(generator, ids, numbers, dates, (seed, seed + 1), base_year)
    last_rows = sales[sales[DATE] == sales[DATE].max()]
    last_demand = last_rows.set_index(STORE)[TARGET].reindex(ids).to_numpy()
    return _with_previous_days(frame, demand, last_demand)


def _frame_of(dates: pd.DatetimeIndex | np.ndarray, draws: dict[str, np.ndarray],
              weekend: np.ndarray, price: np.ndarray, promo: np.ndarray,
              demand: np.ndarray) -> pd.DataFrame:
    """The tutorial's columns but ``previous_days_demand``, in their order."""
    return pd.DataFrame({
        DATE: dates, "average_temperature": draws["temperature"], "rainfall": draws["rainfall"],
        "weekend": weekend, "holiday": draws["holiday"].astype(np.int64, copy=False),
        "price_per_kg": price, "promo": promo.astype(np.int64, copy=False), TARGET: demand,
    }, copy=False)


def _demand(base: float | np.ndarray, amplitude: float | np.ndarray, price: np.ndarray,
            price_scale: float, promo: np.ndarray, weekend: np.ndarray, harvest: np.ndarray,
            noise: np.ndarray, inflation: np.ndarray) -> np.ndarray:
    """The tutorial's demand: base demand moved by price, season, promotion and weekend, plus
    noise, times inflation (arrays broadcast: one store's days, or stores x days)."""
    return (
        base
        - _PRICE_EFFECT * base * price / price_scale
        + amplitude * harvest
        + _PROMO_EFFECT * base * promo
        + _WEEKEND_EFFECT * base * weekend
        + noise
    ) * inflation


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
    demand = _demand(base, generator.seasonal_amplitude, price, price_scale, promo, weekend,
                     harvest, draws["noise"], inflation)
    frame = _frame_of(dates, draws, weekend, price, promo, demand)
    return frame, pd.Series(draws["noise"] * inflation, index=frame.index, name="noise")


def _store_rng(seed: int, store: int, stream: int) -> np.random.Generator:
    """Store ``store``'s own stream of ``seed``: ``_STORE_TRAITS`` draws what the store is,
    ``_STORE_DAYS`` what happens there each day. It depends on nothing but these three numbers,
    so store k is the same in a chain of any size."""
    return np.random.default_rng(np.random.SeedSequence([seed, store, stream]))


def _store_traits(generator: Generator, numbers: np.ndarray,
                  seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each store's (level, price shift, promotion month shift), as columns (stores x 1)."""
    level, price_shift, promo_shift = (np.empty((len(numbers), 1)) for _ in range(3))
    width = generator.price_range[1] - generator.price_range[0]
    for i, store in enumerate(numbers):
        rng = _store_rng(seed, int(store), _STORE_TRAITS)
        level[i] = rng.lognormal(0.0, _STORE_LEVEL_SD)
        price_shift[i] = rng.uniform(-1.0, 1.0) * _STORE_PRICE_SHIFT * width
        promo_shift[i] = rng.integers(0, 12)
    return level, price_shift, promo_shift.astype(np.int64)


def _store_draws(generator: Generator, numbers: np.ndarray, rows: int,
                 seed: int) -> dict[str, np.ndarray]:
    """``_draws``'s columns for every store (stores x days), each row from its store's stream,
    written in place: no per-store frame is ever built."""
    low, high = generator.price_range
    draws = {name: np.empty((len(numbers), rows))
             for name in ("temperature", "rainfall", "price", "noise")}
    draws |= {name: np.empty((len(numbers), rows), dtype=np.int64) for name in ("holiday",
                                                                                  "promo")}
    for i, store in enumerate(numbers):
        rng = _store_rng(seed, int(store), _STORE_DAYS)
        draws["temperature"][i] = rng.uniform(10, 35, rows)
        draws["rainfall"][i] = rng.exponential(5, rows)
        draws["holiday"][i] = rng.random(rows) < 0.03
        draws["price"][i] = rng.uniform(low, high, rows)
        draws["promo"][i] = rng.random(rows) < 0.15
        draws["noise"][i] = rng.normal(0, generator.noise_std, rows)
    return draws


def _chain_sales(generator: Generator, ids: list[str], numbers: np.ndarray,
                 dates: pd.DatetimeIndex, seeds: tuple[int, int],
                 base_year: int) -> tuple[pd.DataFrame, pd.Series, np.ndarray]:
    """``_sales`` for every store at once: the frame (store then date, no
    ``previous_days_demand``), its noise, and demand as stores x days. ``seeds`` are the seeds
    of the stores' traits and of their days; a store's noise scales with its level."""
    level, price_shift, promo_shift = _store_traits(generator, numbers, seeds[0])
    draws = _store_draws(generator, numbers, len(dates), seeds[1])
    months = dates.month.to_numpy()
    low, high = generator.price_range
    price_scale = ((low + high) / 2) / _APPLES_MID_PRICE
    weekend = (dates.day_of_week >= 5).astype(np.int64)
    promo_month = np.isin((months - 1 - promo_shift) % 12 + 1, generator.promo_months)
    promo = np.where(promo_month, 1, draws["promo"])
    inflation = 1 + _INFLATION_PER_YEAR * (dates.year - base_year).to_numpy()
    harvest = seasonal_effect(months, generator.seasonal_peak_month)
    price = draws["price"] + price_shift - _HARVEST_PRICE_SHIFT * price_scale * harvest
    noise = draws["noise"] * level
    demand = _demand(generator.base_demand * level, generator.seasonal_amplitude * level, price,
                     price_scale, promo, weekend, harvest, noise, inflation)
    stores, days = demand.shape
    flat = {name: values.reshape(-1) for name, values in draws.items()}
    frame = _frame_of(np.tile(dates.to_numpy(), stores), flat, np.tile(weekend, stores),
                      price.reshape(-1), promo.reshape(-1), demand.reshape(-1))
    frame.insert(0, STORE, pd.array(ids, dtype="str").take(np.repeat(np.arange(stores), days)))
    noise *= inflation
    return frame, pd.Series(noise.reshape(-1), index=frame.index, name="noise"), demand


def _with_previous_days(frame: pd.DataFrame, demand: np.ndarray,
                        first: np.ndarray) -> pd.DataFrame:
    """A chain's frame with ``previous_days_demand``: each store's demand the day before, its
    first day's taken from ``first`` (one value per store)."""
    previous = np.empty_like(demand)
    previous[:, 1:] = demand[:, :-1]
    previous[:, 0] = first
    frame["previous_days_demand"] = previous.reshape(-1)
    return frame


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
    holdout: int | None = None, series: tuple[str, ...] = (),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split into (train, validation).

    ``time`` keeps the last ``holdout`` days (the backtest's forecast days) for validation, or
    the last ``validation_fraction`` of them without a holdout, so no later day is ever trained
    on; ``random`` is the tutorial's ``train_test_split(random_state=42)``. With ``series`` (the
    key columns of many series) ``time`` counts dates, not rows: every series is split on the
    same day, and both sides are ordered by series then date; ``random`` stays row-wise.
    """
    if series and split == "time":
        return _split_series_by_time(frame, validation_fraction, date_column, holdout, series)
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


def _split_series_by_time(frame: pd.DataFrame, validation_fraction: float, date_column: str,
                          holdout: int | None,
                          series: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The time split of many series: the last ``holdout`` dates (or the last
    ``validation_fraction`` of them) of every series are validation."""
    dates = np.sort(pd.unique(frame[date_column].to_numpy()))
    n_train = split_sizes(len(dates), validation_fraction, "time")[0]
    if holdout:
        n_train = len(dates) - holdout
    if n_train < MIN_ROWS_PER_SIDE:
        raise UserError(f"{len(dates)} dates are too few to hold out the last {holdout}")
    ordered = frame.sort_values([*series, date_column], kind="stable")
    later = ordered[date_column].to_numpy() >= dates[n_train]
    return ordered[~later], ordered[later]


class SplitSales(NamedTuple):
    """A product's daily sales, split, and the noise floor of the validation rows (None for a
    user's own table, whose noise is unknown); ``series`` names the key columns of a table of
    many series (empty: one series)."""

    sales: pd.DataFrame
    train: pd.DataFrame
    validation: pd.DataFrame
    noise_floor: float | None = None
    series: tuple[str, ...] = ()


def split_synthetic_sales(generator: Generator, rows: int, end_date: str, seed: int,
                          validation_fraction: float, split: str,
                          holdout: int | None = None, stores: int = 1) -> SplitSales:
    """A catalog product's synthetic sales, split, with the noise floor of the validation rows:
    what no model can beat on them, the generator's own noise (over all stores' rows: with
    ``stores`` > 1 the series are the stores, keyed by ``STORE``)."""
    sales, noise = simulate_sales(generator, rows, end_date, seed, stores)
    series = (STORE,) if stores > 1 else ()
    train, validation = split_sales(sales, validation_fraction, split, DATE, holdout, series)
    return SplitSales(sales, train, validation, noise_floor(noise, validation.index), series)


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
