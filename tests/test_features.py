"""grocery.features: the feature steps of the model, from a table's raw columns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from grocery.config import load_config
from grocery.feature_columns import DERIVED, LAGS
from grocery.features import ESTIMATOR_STEP, CalendarLags, forecasting_model
from grocery.modeling import build_estimator, build_model, regression_metrics

CONFIG = load_config()
RIDGE = CONFIG.model("ridge")


def own_table(rows: int = 60) -> pd.DataFrame:
    days = pd.date_range("2024-01-01", periods=rows, freq="D")
    rng = np.random.default_rng(0)
    shelf = rng.choice(["front", "back"], rows).astype(object)
    shelf[::7] = None
    temperature = rng.normal(20, 3, rows)
    temperature[::5] = np.nan
    units = 100 + 30 * (shelf == "front") + 10 * (days.day_of_week >= 5) + rng.normal(0, 2, rows)
    return pd.DataFrame({"day": days, "shelf": shelf, "temperature": temperature,
                         "units": units})


def test_lags_are_causal_and_continue_from_the_training_days():
    table = own_table()
    train, later = table.iloc[:40], table.iloc[40:]
    step = CalendarLags("day", "units", ("shelf",)).fit(train)
    out = step.transform(later)
    assert "units" not in out.columns and "day" not in out.columns
    units = table.set_index("day")["units"]
    for name, lag in LAGS.items():
        expected = units.reindex(later["day"] - pd.Timedelta(days=lag)).to_numpy()
        np.testing.assert_array_equal(out[name].to_numpy(), expected)
    # The first later day finds yesterday among the training days, not in its own row.
    assert out["target_lag_1"].iloc[0] == train["units"].iloc[-1]
    # Without the target (days to forecast), lags come from history or stay missing.
    blind = step.transform(later.drop(columns=["units"]))
    assert blind["target_lag_1"].iloc[0] == train["units"].iloc[-1]
    assert blind["target_lag_1"].iloc[1:].isna().all()
    # A row's own target never changes its own features.
    changed = later.copy()
    changed.loc[changed.index[-1], "units"] = 1e9
    pd.testing.assert_series_equal(step.transform(changed).iloc[-1], out.iloc[-1])


def test_calendar_features():
    out = CalendarLags("day", "units").fit(own_table()).transform(own_table().head(3))
    assert out["date_day_of_week"].tolist() == [0, 1, 2]  # 2024-01-01 was a Monday
    assert out["date_month"].tolist() == [1, 1, 1]
    assert out["date_day_of_year"].tolist() == [1, 2, 3]
    assert out["date_trend"].tolist() == [0.0, 1.0, 2.0]


def test_the_model_takes_raw_columns_with_gaps_and_strings():
    table = own_table()
    train, validation = table.iloc[:45], table.iloc[45:]
    model = build_model(RIDGE, {"alpha": 1.0}, train, "units", "day")
    model.fit(train, train["units"])
    as_text = validation.assign(day=validation["day"].dt.strftime("%Y-%m-%d"),
                                shelf=validation["shelf"].astype("str"))
    first = model.predict(validation)
    np.testing.assert_allclose(model.predict(as_text), first)
    unseen = validation.assign(shelf="window")  # a category never seen is not an error
    assert np.isfinite(model.predict(unseen)).all()
    assert regression_metrics(validation["units"].to_numpy(), first)["rmse"] < 10


def test_categories_read_back_as_numbers_are_still_categories():
    table = own_table().assign(store=lambda f: np.where(f.index % 2 == 0, "1", "2"))
    train, validation = table.iloc[:45], table.iloc[45:]
    model = build_model(RIDGE, {"alpha": 1.0}, train, "units", "day")
    model.fit(train, train["units"])
    as_numbers = validation.assign(store=validation["store"].astype(int))
    np.testing.assert_allclose(model.predict(as_numbers), model.predict(validation))


def test_the_estimator_comes_last_behind_the_feature_steps():
    table = own_table()
    model = forecasting_model(build_estimator(RIDGE, {"alpha": 1.0}), table, "units", "day")
    assert list(model.named_steps)[-1] == ESTIMATOR_STEP
    features = model.fit(table, table["units"])[:-1].transform(table.head(10))
    # temperature, day of year, trend and the lags scaled; 7 weekdays and 12 months; the
    # shelf's front, back and missing: every gap imputed.
    assert features.shape == (10, 1 + len(DERIVED) - 2 + 7 + 12 + 3)
    assert np.isfinite(features).all()
