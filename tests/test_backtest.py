"""Rolling-origin backtest: origins from TimeSeriesSplit, refusals, no peeking past an origin."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from grocery.backtest import backtest_origins, min_train_rows, rolling_origin
from grocery.config import load_config
from grocery.dataset import simulate_sales
from grocery.errors import UserError


def refused(call, message: str) -> None:
    with pytest.raises(UserError) as error:
        call()
    assert str(error.value) == message


def test_origins_are_horizon_apart_and_the_last_window_ends_at_the_last_row():
    assert backtest_origins(100, 14, 5, 28) == [30, 44, 58, 72, 86]
    assert backtest_origins(98, 14, 5, 28) == [28, 42, 56, 70, 84]  # exactly enough
    assert backtest_origins(50, 7, 1, 28) == [43]
    assert min_train_rows(7) == 28 and min_train_rows(52) == 118


def test_refusals():
    refused(lambda: backtest_origins(100, 0, 5, 28), "horizon must be 1 or more, got 0")
    refused(lambda: backtest_origins(100, 14, 0, 28), "folds must be 1 or more, got 0")
    refused(lambda: backtest_origins(80, 14, 5, 28),
            "the table has 80 rows; horizon 14 with 5 folds needs at least 98 (28 to train "
            "before the first origin + 5 x 14)")
    refused(lambda: backtest_origins(30, 7, 1, 28),
            "the table has 30 rows; horizon 7 with 1 fold needs at least 35 (28 to train "
            "before the first origin + 1 x 7)")


@pytest.fixture(scope="module")
def milk() -> pd.DataFrame:
    return simulate_sales(load_config().generators["milk"], 120, "2023-10-03", 9999)[0]


def test_a_forecaster_never_sees_a_target_after_its_origin(milk):
    seen = []

    def spy(history: pd.DataFrame, future: pd.DataFrame) -> np.ndarray:
        seen.append((history.copy(), future.copy()))
        return np.full(len(future), history["demand"].iloc[-1])

    # Shuffled rows: the backtest orders them by date itself.
    result = rolling_origin(milk.sample(frac=1, random_state=1), 14, 3, "date", "demand", spy,
                            28)
    assert len(seen) == 3
    for history, future in seen:
        assert "demand" not in future.columns
        assert history["date"].max() < future["date"].min()
        origin = history["date"].iloc[-1]
        assert history["date"].is_monotonic_increasing and history["date"].max() == origin
        assert len(future) == 14 and (future["date"] - origin).dt.days.tolist() == list(
            range(1, 15))
    # Expanding window: every fold trains on all rows before its origin.
    assert [len(history) for history, _ in seen] == [78, 92, 106]
    # The targets the forecaster never saw come back only as the actuals.
    np.testing.assert_array_equal(result["actual"], milk["demand"].iloc[-42:])


def test_one_row_per_fold_and_step_with_the_actuals(milk):
    def last_value(history: pd.DataFrame, future: pd.DataFrame) -> np.ndarray:
        return np.full(len(future), history["demand"].iloc[-1])

    result = rolling_origin(milk, 7, 2, "date", "demand", last_value, 28)
    assert list(result.columns) == ["fold", "origin", "h", "date", "actual", "forecast"]
    assert result["fold"].tolist() == [1] * 7 + [2] * 7
    assert result["h"].tolist() == list(range(1, 8)) * 2
    assert result["date"].iloc[-1] == milk["date"].iloc[-1]
    np.testing.assert_array_equal(result["actual"], milk["demand"].iloc[-14:])
    assert result["origin"].iloc[0] == milk["date"].iloc[-15]
    assert (result["forecast"].iloc[:7] == milk["demand"].iloc[-15]).all()


def test_a_forecast_of_the_wrong_length_is_our_bug(milk):
    with pytest.raises(ValueError):
        rolling_origin(milk, 7, 2, "date", "demand", lambda h, f: np.zeros(3), 28)
