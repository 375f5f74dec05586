"""grocery.signature: the logged model takes the table's raw columns, the target optional."""

from __future__ import annotations

import numpy as np
import pandas as pd

from grocery.signature import raw_columns_signature


def test_every_raw_column_is_an_input_and_only_the_target_is_optional():
    frame = pd.DataFrame({"day": pd.date_range("2024-01-01", periods=3), "shelf": ["a", "b", "c"],
                          "promo": [0, 1, 0], "units": [1.0, 2.0, 3.0]})
    signature = raw_columns_signature(frame, np.array([1.0, 2.0, 3.0]), "units")
    inputs = signature.inputs.inputs
    assert [spec.name for spec in inputs] == list(frame.columns)
    assert {spec.name: spec.required for spec in inputs} == {
        "day": True, "shelf": True, "promo": True, "units": False}
    assert [spec.type.name for spec in inputs] == ["datetime", "string", "long", "double"]
    assert signature.outputs is not None
