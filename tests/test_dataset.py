"""The generator and the split: pure functions, no MLflow."""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from grocery.config import load_config
from grocery.dataset import (
    COLUMNS,
    STORE,
    combined_digest,
    content_digest,
    features_and_target,
    generate_sales,
    noise_floor,
    seasonal_effect,
    simulate_sales,
    split_sales,
    split_sizes,
    split_synthetic_sales,
)
from grocery.errors import UserError

CATALOG = load_config()
APPLES = CATALOG.generators["apples"]


def test_same_parameters_give_an_identical_frame():
    first = generate_sales(APPLES, 500, "2023-10-03", 9999)
    again = generate_sales(APPLES, 500, "2023-10-03", 9999)
    pd.testing.assert_frame_equal(first, again)
    assert content_digest(first) == content_digest(again)


def test_seed_and_end_date_change_the_data():
    base = generate_sales(APPLES, 200, "2023-10-03", 9999)
    assert content_digest(base) != content_digest(generate_sales(APPLES, 200, "2023-10-03", 1))
    shifted = generate_sales(APPLES, 200, "2023-10-04", 9999)
    assert shifted["date"].iloc[-1] == pd.Timestamp("2023-10-04")


def test_columns_dtypes_and_no_missing_values():
    frame = generate_sales(APPLES, 1000, "2023-10-03", 9999)
    assert list(frame.columns) == COLUMNS
    assert frame["date"].dtype.kind == "M"
    for column in ("weekend", "holiday", "promo"):
        assert frame[column].dtype == np.int64
        assert set(frame[column].unique()) <= {0, 1}
    for column in ("average_temperature", "rainfall", "price_per_kg", "demand"):
        assert frame[column].dtype == np.float64
    assert not frame.isna().any().any()
    assert frame["date"].is_monotonic_increasing and frame["date"].is_unique
    assert frame["date"].iloc[-1] == pd.Timestamp("2023-10-03")


def test_apples_keep_the_tutorials_scale_and_rules():
    frame = generate_sales(APPLES, 1000, "2023-10-03", 9999)
    assert frame["average_temperature"].between(10, 35).all()
    assert 800 < frame["demand"].mean() < 1400
    assert (frame.loc[frame["date"].dt.month.isin([4, 10]), "promo"] == 1).all()
    weekend = frame["date"].dt.day_of_week >= 5
    assert (frame["weekend"] == weekend.astype(int)).all()
    # previous_days_demand is yesterday's demand, the first row back-filled.
    assert frame["previous_days_demand"].iloc[0] == frame["demand"].iloc[0]
    np.testing.assert_array_equal(
        frame["previous_days_demand"].iloc[1:].to_numpy(), frame["demand"].iloc[:-1].to_numpy()
    )


def test_seasonality_varies_over_the_year():
    effect = seasonal_effect(np.arange(1, 13), peak_month=9)
    assert effect.max() == pytest.approx(1.0) and effect.argmax() == 8
    assert effect.min() == pytest.approx(-1.0)
    # Visible in the data: mean demand by month differs by far more than noise allows.
    frame = generate_sales(CATALOG.generators["cherries"], 3 * 365, "2023-10-03", 9999)
    monthly = frame.groupby(frame["date"].dt.month)["demand"].mean()
    assert monthly.max() - monthly.min() > 50


def test_products_differ():
    digests = {content_digest(generate_sales(p, 100, "2023-10-03", 9999))
               for p in CATALOG.generators.values()}
    assert len(digests) == len(CATALOG.products)


def test_chronological_split_never_trains_on_a_later_day():
    frame = generate_sales(APPLES, 1000, "2023-10-03", 9999).sample(frac=1, random_state=0)
    train, validation = split_sales(frame, 0.2, "time")
    assert (len(train), len(validation)) == (800, 200)
    assert train["date"].max() < validation["date"].min()


def test_random_split_is_the_tutorials():
    frame = generate_sales(APPLES, 1000, "2023-10-03", 9999)
    train, validation = split_sales(frame, 0.2, "random")
    expected_train, expected_validation = train_test_split(frame, test_size=0.2, random_state=42)
    pd.testing.assert_frame_equal(train, expected_train)
    pd.testing.assert_frame_equal(validation, expected_validation)


@pytest.mark.parametrize(
    ("rows", "fraction", "split", "message"),
    [
        (0, 0.2, "time", "rows must be a positive number of days, got 0"),
        (100, 0.0, "time", "validation_fraction must be between 0 and 1 (exclusive), got 0.0"),
        (100, 1.5, "time", "validation_fraction must be between 0 and 1 (exclusive), got 1.5"),
        (3, 0.2, "time", "3 rows are too few for validation_fraction=0.2"),
        (100, 0.2, "sideways", "unknown split 'sideways'; valid splits: time, random"),
    ],
)
def test_impossible_splits_are_user_errors(rows, fraction, split, message):
    with pytest.raises(UserError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        split_sizes(rows, fraction, split)


def test_features_are_every_column_but_date_and_target():
    x, y = features_and_target(generate_sales(APPLES, 10, "2023-10-03", 9999))
    assert "date" not in x.columns and "demand" not in x.columns
    assert y.name == "demand" and len(x.columns) == 7


def test_combined_digest_depends_on_both_parts():
    assert combined_digest("a", "b") != combined_digest("a", "c")
    assert combined_digest("a", "b") == combined_digest("a", "b")


def test_the_noise_is_what_separates_demand_from_its_formula():
    frame, noise = simulate_sales(APPLES, 400, "2023-10-03", 9999)
    pd.testing.assert_frame_equal(frame, generate_sales(APPLES, 400, "2023-10-03", 9999))
    assert noise.index.equals(frame.index)
    # Inflation multiplies the noise: in the last year it is 6% above the draw's std of 50.
    assert 40 < noise.std() < 65
    _, validation = split_sales(frame, 0.2)
    assert noise_floor(noise, validation.index) == pytest.approx(
        np.sqrt(np.mean(noise.loc[validation.index] ** 2)))


def test_a_synthetic_split_carries_its_noise_floor():
    split = split_synthetic_sales(APPLES, 400, "2023-10-03", 9999, 0.2, "time")
    frame, noise = simulate_sales(APPLES, 400, "2023-10-03", 9999)
    pd.testing.assert_frame_equal(split.sales, frame)
    assert (len(split.train), len(split.validation)) == (320, 80)
    assert split.noise_floor == noise_floor(noise, split.validation.index)


# A chain: many stores of one product, one series each.

CHAIN_ROWS = 60


@pytest.fixture(scope="module")
def chain() -> tuple[pd.DataFrame, pd.Series]:
    return simulate_sales(APPLES, CHAIN_ROWS, "2023-10-03", 9999, stores=12)


def test_one_store_is_todays_frame_without_a_store_column():
    frame, noise = simulate_sales(APPLES, 300, "2023-10-03", 9999, stores=1)
    today, today_noise = simulate_sales(APPLES, 300, "2023-10-03", 9999)
    pd.testing.assert_frame_equal(frame, today, check_exact=True)
    pd.testing.assert_series_equal(noise, today_noise, check_exact=True)
    assert STORE not in frame.columns
    split = split_synthetic_sales(APPLES, 300, "2023-10-03", 9999, 0.2, "time", 70, stores=1)
    assert split.series == () and STORE not in split.sales.columns


def test_a_chain_is_one_frame_sorted_by_store_then_date(chain):
    frame, noise = chain
    assert list(frame.columns) == [STORE, *COLUMNS]
    assert len(frame) == 12 * CHAIN_ROWS and frame.index.equals(pd.RangeIndex(len(frame)))
    assert list(pd.unique(frame[STORE])) == [f"S{k:02d}" for k in range(1, 13)]
    assert pd.api.types.is_string_dtype(frame[STORE])
    assert frame.equals(frame.sort_values([STORE, "date"], kind="stable"))
    assert frame.groupby(STORE)["date"].nunique().eq(CHAIN_ROWS).all()
    assert noise.index.equals(frame.index) and not frame.isna().any().any()
    for column in ("weekend", "holiday", "promo"):
        assert frame[column].dtype == np.int64
    again, again_noise = simulate_sales(APPLES, CHAIN_ROWS, "2023-10-03", 9999, stores=12)
    pd.testing.assert_frame_equal(frame, again, check_exact=True)
    pd.testing.assert_series_equal(noise, again_noise, check_exact=True)
    other = simulate_sales(APPLES, CHAIN_ROWS, "2023-10-03", 1, stores=12)[0]
    assert content_digest(other) != content_digest(frame)


def test_store_ids_are_padded_to_the_largest_number():
    frame = generate_sales(APPLES, 2, "2023-10-03", 1, stores=1000)
    assert (frame[STORE].iloc[0], frame[STORE].iloc[-1]) == ("S0001", "S1000")


def test_a_store_is_the_same_in_a_chain_of_any_size():
    small = generate_sales(APPLES, 40, "2023-10-03", 9999, stores=10)
    large = generate_sales(APPLES, 40, "2023-10-03", 9999, stores=100)
    third = small[small[STORE] == "S03"].drop(columns=STORE).reset_index(drop=True)
    same = large[large[STORE] == "S003"].drop(columns=STORE).reset_index(drop=True)
    pd.testing.assert_frame_equal(third, same, check_exact=True)


def test_each_store_has_its_own_level_price_promotions_and_noise(chain):
    frame, noise = chain
    by_store = frame.groupby(STORE)
    assert by_store["demand"].mean().std() > 100  # levels differ far beyond the noise
    # Store prices sit apart: their means spread twice as far as the daily draws alone give.
    low, high = APPLES.price_range
    assert by_store["price_per_kg"].mean().std() > 0.08 * (high - low)
    # The product's promotion months (April and October for apples) move by store.
    october = frame[frame["date"].dt.month == 10].groupby(STORE)["promo"].mean()
    assert october.min() < 1
    assert noise.groupby(frame[STORE]).std().nunique() == 12
    # Yesterday's demand is the store's own; each store's first day is back-filled.
    first = ~frame[STORE].duplicated()
    np.testing.assert_array_equal(frame.loc[first, "previous_days_demand"],
                                  frame.loc[first, "demand"])
    np.testing.assert_array_equal(frame.loc[~first, "previous_days_demand"],
                                  by_store["demand"].shift(1)[~first])


@pytest.mark.parametrize("stores", [0, -3, 1.5, True])
def test_stores_must_be_one_or_more(stores):
    with pytest.raises(UserError, match="^stores must be a whole number of 1 or more"):
        simulate_sales(APPLES, 10, "2023-10-03", 9999, stores=stores)


def test_a_chains_time_split_holds_out_the_same_last_dates_of_every_store():
    split = split_synthetic_sales(APPLES, CHAIN_ROWS, "2023-10-03", 9999, 0.2, "time", 14,
                                  stores=5)
    assert split.series == (STORE,)
    assert (len(split.train), len(split.validation)) == (5 * 46, 5 * 14)
    assert split.train["date"].max() < split.validation["date"].min()
    for part in (split.train, split.validation):
        dates = part.groupby(STORE)["date"].agg(lambda d: tuple(d))
        assert dates.nunique() == 1 and len(dates) == 5
        assert part.equals(part.sort_values([STORE, "date"], kind="stable"))
    frame, noise = simulate_sales(APPLES, CHAIN_ROWS, "2023-10-03", 9999, stores=5)
    pd.testing.assert_frame_equal(split.sales, frame)
    assert split.noise_floor == noise_floor(noise, split.validation.index)
    # Without a holdout, the last fifth of the dates; a shuffled table splits the same way.
    train, validation = split_sales(frame.sample(frac=1, random_state=0), 0.2, "time",
                                    series=(STORE,))
    assert validation["date"].nunique() == 12 and len(validation) == 5 * 12
    pd.testing.assert_frame_equal(validation, split_sales(frame, 0.2, series=(STORE,))[1])
    with pytest.raises(UserError, match="^60 dates are too few to hold out the last 59$"):
        split_sales(frame, 0.2, "time", holdout=59, series=(STORE,))


def test_a_chains_random_split_stays_row_wise():
    frame = generate_sales(APPLES, CHAIN_ROWS, "2023-10-03", 9999, stores=3)
    train, validation = split_sales(frame, 0.2, "random", series=(STORE,))
    expected_train, expected_validation = train_test_split(frame, test_size=0.2, random_state=42)
    pd.testing.assert_frame_equal(train, expected_train)
    pd.testing.assert_frame_equal(validation, expected_validation)
