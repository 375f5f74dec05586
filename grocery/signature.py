"""The logged model's signature: the table's raw columns, the target among them as optional
history (a forecast for days whose target is unknown may leave it out)."""

from __future__ import annotations

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
