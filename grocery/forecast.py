"""Forecasting with a registered model: read the input table, check it, add the predictions.

Pure pandas: the model's input schema arrives as plain ``(column, type)`` pairs, so the checks
can be tested without MLflow (``grocery.models`` turns a signature into them).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from grocery.errors import UserError

PREDICTION = "prediction"
SUFFIXES = (".csv", ".parquet")

# Signature types (MLflow's DataType names) and the pandas dtypes each one accepts. An integer
# column may feed a float input; a float column may not feed an integer one (it would be cut).
_INTEGER_TYPES = {"integer", "long"}
_FLOAT_TYPES = {"float", "double"}


def table_format(path: str | Path) -> str:
    """``csv`` or ``parquet`` from the file's suffix, or a UserError naming the choices."""
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise UserError(
            f"{str(path)!r} is neither .csv nor .parquet; name the file with one of those suffixes"
        )
    return suffix[1:]


def read_table(path: str | Path) -> pd.DataFrame:
    """The rows of a .csv or .parquet file."""
    kind = table_format(path)
    if not Path(path).is_file():
        raise UserError(f"input file {str(path)!r} does not exist")
    try:
        return pd.read_csv(path) if kind == "csv" else pd.read_parquet(path)
    except (OSError, ValueError) as error:
        raise UserError(f"cannot read {kind} file {str(path)!r}: {error}") from None


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as .csv or .parquet by the suffix of ``path``; return the path."""
    kind = table_format(path)
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if kind == "csv":
            frame.to_csv(target, index=False)
        else:
            frame.to_parquet(target, index=False)
    except OSError as error:
        raise UserError(f"cannot write {str(path)!r}: {error.strerror or error}") from None
    return target


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


def model_inputs(frame: pd.DataFrame, schema: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """The columns the model takes, in its order and types, or one UserError naming every fault.

    Extra columns (a date, the actual demand) are allowed and left out of the model's input.
    """
    missing = [name for name, _ in schema if name not in frame.columns]
    mistyped = [
        f"{name} ({frame[name].dtype}, expected {kind})"
        for name, kind in schema
        if name in frame.columns and not _fits(frame[name], kind)
    ]
    faults = []
    if missing:
        faults.append(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    if mistyped:
        faults.append(f"mistyped column{'s' if len(mistyped) > 1 else ''} {', '.join(mistyped)}")
    if faults:
        raise UserError(
            f"input does not match the model's signature: {'; '.join(faults)}; "
            f"the model takes {', '.join(f'{name} ({kind})' for name, kind in schema)}"
        )
    if frame.empty:
        raise UserError("input has no rows to predict")
    inputs = frame[[name for name, _ in schema]].copy()
    for name, kind in schema:
        if kind in _FLOAT_TYPES:
            inputs[name] = inputs[name].astype(np.float64 if kind == "double" else np.float32)
    return inputs


def with_predictions(frame: pd.DataFrame, predictions: Sequence[float]) -> pd.DataFrame:
    """``frame`` with a ``prediction`` column (replacing one that was there)."""
    result = frame.drop(columns=[PREDICTION], errors="ignore").copy()
    result[PREDICTION] = np.asarray(predictions, dtype=np.float64).reshape(len(frame))
    return result
