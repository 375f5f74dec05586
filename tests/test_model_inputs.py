"""grocery.model_inputs: a table checked against a model's signature, and the predictions added."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from grocery.errors import UserError
from grocery.model_inputs import PREDICTION, Column, model_inputs, with_predictions

SCHEMA = [Column("price_per_kg", "double"), Column("promo", "long")]


def test_model_inputs_keeps_schema_order_and_upcasts_integers_to_double():
    frame = pd.DataFrame({"date": ["2023-01-01"], "promo": [1], "price_per_kg": [3]})
    inputs = model_inputs(frame, SCHEMA)
    assert list(inputs.columns) == ["price_per_kg", "promo"]
    assert inputs["price_per_kg"].dtype == np.float64
    assert inputs["promo"].dtype == np.int64
    assert frame["price_per_kg"].dtype == np.int64  # the caller's frame is untouched


@pytest.mark.parametrize(("frame", "fault"), [
    (pd.DataFrame({"promo": [1]}), "missing column price_per_kg;"),
    (pd.DataFrame({"other": [1]}), "missing columns price_per_kg, promo;"),
    (pd.DataFrame({"price_per_kg": [1.0], "promo": [0.5]}),
     "mistyped column promo (float64, expected long);"),
    (pd.DataFrame({"price_per_kg": ["cheap"], "promo": [True]}),
     "mistyped columns price_per_kg (str, expected double), promo (bool, expected long);"),
])
def test_model_inputs_names_every_missing_and_mistyped_column(frame, fault):
    with pytest.raises(UserError) as raised:
        model_inputs(frame, SCHEMA)
    message = str(raised.value)
    assert message.startswith(f"input does not match the model's signature: {fault}")
    assert message.endswith("the model takes price_per_kg (double), promo (long)")
    assert "\n" not in message


def test_optional_columns_pass_when_present_and_dates_are_parsed_from_text():
    schema = [Column("date", "datetime"), Column("promo", "long"),
              Column("demand", "double", required=False)]
    without = model_inputs(pd.DataFrame({"date": ["2023-10-01"], "promo": [1]}), schema)
    assert list(without.columns) == ["date", "promo"]
    assert without["date"].iloc[0] == pd.Timestamp("2023-10-01")
    with_history = model_inputs(
        pd.DataFrame({"demand": [3], "promo": [1], "date": ["2023-10-01"]}), schema)
    assert list(with_history.columns) == ["date", "promo", "demand"]
    assert with_history["demand"].dtype == np.float64
    with pytest.raises(UserError) as raised:
        model_inputs(pd.DataFrame({"date": ["not a date"], "demand": ["x"]}), schema)
    assert str(raised.value).startswith(
        "input does not match the model's signature: missing column promo; mistyped columns "
        "date (str, expected datetime), demand (str, expected double); the model takes "
        "date (datetime), promo (long), demand (double, optional)")


def test_model_inputs_refuses_an_empty_table():
    with pytest.raises(UserError, match="no rows"):
        model_inputs(pd.DataFrame({"price_per_kg": [], "promo": pd.Series([], dtype="int64")}),
                     SCHEMA)


def test_with_predictions_adds_or_replaces_the_prediction_column():
    frame = with_predictions(pd.DataFrame({"promo": [0, 1], PREDICTION: [9, 9]}), [1.5, 2.5])
    assert list(frame.columns) == ["promo", PREDICTION]
    assert frame[PREDICTION].tolist() == [1.5, 2.5]
    added = with_predictions(pd.DataFrame({"promo": [0]}), np.array([[3.0]]))
    assert added[PREDICTION].dtype == np.float64 and added[PREDICTION].tolist() == [3.0]
