"""A registered model's inputs: check a table against its signature, add the predictions.

Pure pandas: the model's input schema arrives as plain ``Column`` records, so the checks can be
tested without MLflow (the registry module turns a signature into them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from grocery.errors import UserError

PREDICTION = "prediction"

# Signature types (MLflow's DataType names) and the pandas dtypes each one accepts. An integer
# column may feed a float input; a float column may not feed an integer one (it would be cut).
_INTEGER_TYPES = {"integer", "long"}
_FLOAT_TYPES = {"float", "double"}


class Column(NamedTuple):
    """One input column of a model's signature: its name, MLflow type name and whether needed."""

    name: str
    kind: str
    required: bool = True

    def __str__(self) -> str:
        return f"{self.name} ({self.kind}{'' if self.required else ', optional'})"


def _fits(series: pd.Series, schema_type: str) -> bool:
    if pd.api.types.is_bool_dtype(series):
        return schema_type == "boolean"
    if schema_type in _INTEGER_TYPES:
        return pd.api.types.is_integer_dtype(series)
    if schema_type in _FLOAT_TYPES:
        return pd.api.types.is_numeric_dtype(series)
    if schema_type == "string":
        return pd.api.types.is_string_dtype(series) or pd.api.types.is_object_dtype(series)
    if schema_type == "datetime":
        return pd.api.types.is_datetime64_any_dtype(series)
    return True  # a type this project never logs: leave it to MLflow's own enforcement


def _as_dates(series: pd.Series) -> pd.Series:
    """Dates written as text (as every .csv holds them) parsed, or the series unchanged."""
    if pd.api.types.is_datetime64_any_dtype(series) or not (
            pd.api.types.is_string_dtype(series) or pd.api.types.is_object_dtype(series)):
        return series
    try:
        return pd.to_datetime(series, format="ISO8601")
    except (ValueError, TypeError):
        return series


def model_inputs(frame: pd.DataFrame, schema: Sequence[Column]) -> pd.DataFrame:
    """The columns the model takes, in its order and types, or one UserError naming every fault.

    Extra columns are allowed and left out of the model's input; an optional column is passed
    when present. Dates written as text are parsed.
    """
    frame = frame.copy()
    for column in schema:
        if column.kind == "datetime" and column.name in frame.columns:
            frame[column.name] = _as_dates(frame[column.name])
    missing = [c.name for c in schema if c.required and c.name not in frame.columns]
    mistyped = [
        f"{c.name} ({frame[c.name].dtype}, expected {c.kind})"
        for c in schema
        if c.name in frame.columns and not _fits(frame[c.name], c.kind)
    ]
    faults = []
    if missing:
        faults.append(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    if mistyped:
        faults.append(f"mistyped column{'s' if len(mistyped) > 1 else ''} {', '.join(mistyped)}")
    if faults:
        raise UserError(
            f"input does not match the model's signature: {'; '.join(faults)}; "
            f"the model takes {', '.join(str(c) for c in schema)}"
        )
    if frame.empty:
        raise UserError("input has no rows to predict")
    present = [c for c in schema if c.name in frame.columns]
    inputs = frame[[c.name for c in present]]
    for column in present:
        if column.kind in _FLOAT_TYPES:
            dtype = np.float64 if column.kind == "double" else np.float32
            inputs[column.name] = inputs[column.name].astype(dtype)
    return inputs


def with_predictions(frame: pd.DataFrame, predictions: Sequence[float]) -> pd.DataFrame:
    """``frame`` with a ``prediction`` column (replacing one that was there)."""
    result = frame.drop(columns=[PREDICTION], errors="ignore").copy()
    result[PREDICTION] = np.asarray(predictions, dtype=np.float64).reshape(len(frame))
    return result
