"""The logged model's signature: the table's raw columns, the target among them as optional
history (a forecast for days whose target is unknown may leave it out)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from mlflow.models import ModelSignature, infer_signature
from mlflow.types.schema import ColSpec, Schema


def raw_columns_signature(inputs: pd.DataFrame, predictions: np.ndarray,
                          target: str) -> ModelSignature:
    inferred = infer_signature(inputs, predictions)
    columns = [ColSpec(spec.type, spec.name, required=spec.name != target)
               for spec in inferred.inputs.inputs]
    return ModelSignature(inputs=Schema(columns), outputs=inferred.outputs)


def forecast_signature(inputs: pd.DataFrame, outputs: pd.DataFrame,
                       required: Sequence[str]) -> ModelSignature:
    """The forecaster's history-plus-future signature: every column outside ``required`` (the
    date and the known-ahead columns) optional."""
    inferred = infer_signature(inputs, outputs)
    columns = [ColSpec(spec.type, spec.name, required=spec.name in required)
               for spec in inferred.inputs.inputs]
    return ModelSignature(inputs=Schema(columns), outputs=inferred.outputs)
