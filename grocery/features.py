"""Model features from a sales table's raw columns: the steps of one sklearn Pipeline.

The logged model takes the table as it comes: the date, the feature columns, and the target
column as history (it may be empty on the days to forecast). The first step adds calendar
features and causal lags of the target; a ColumnTransformer imputes, scales and one-hot encodes;
the estimator comes last. No step ever reads a row's own target.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from grocery.feature_columns import (
    DAY_OF_WEEK,
    DAY_OF_YEAR,
    LAG_PREFIX,
    MONTH,
    TREND,
    TUTORIAL_LAGS,
    days_since_epoch,
    is_categorical,
)

MISSING_CATEGORY = "missing"
ESTIMATOR_STEP = "model"  # the estimator's step, last in the model
# A string column with more distinct values than this keeps its most frequent ones only.
MAX_CATEGORIES = 20


def split_columns(frame: pd.DataFrame, target: str, date_column: str) -> tuple[list, list]:
    """(numeric, categorical) feature columns of ``frame``: every column but date and target."""
    features = [c for c in frame.columns if c not in (target, date_column)]
    categorical = [c for c in features if is_categorical(frame[c])]
    return [c for c in features if c not in categorical], categorical


class CalendarLags(TransformerMixin, BaseEstimator):
    """Adds calendar features and causal lags of the target; drops the target itself.

    ``fit`` keeps the training days' targets as history, so the first day after training finds
    its lags; on later calls the input's own known targets are used as well (newest wins). A lag
    whose day is unknown is left missing for the imputer.
    """

    def __init__(self, date_column: str = "date", target: str = "demand",
                 categorical: tuple[str, ...] = (), lags: tuple[int, ...] = TUTORIAL_LAGS,
                 step_days: int = 1):
        self.date_column = date_column
        self.target = target
        self.categorical = categorical
        self.lags = lags
        self.step_days = step_days

    def _known(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        if self.target not in frame.columns:
            return np.empty(0, dtype=np.int64), np.empty(0)
        values = pd.to_numeric(frame[self.target], errors="coerce").to_numpy(dtype=np.float64)
        known = np.isfinite(values)
        return days_since_epoch(frame[self.date_column])[known], values[known]

    def fit(self, frame: pd.DataFrame, y: object = None) -> CalendarLags:
        # Without lags no history is read: none is kept (a global model's table has millions).
        days, values = (self._known(frame) if self.lags
                        else (np.empty(0, dtype=np.int64), np.empty(0)))
        self.origin_ = int(days_since_epoch(frame[self.date_column]).min())
        self.history_days_, self.history_values_ = days, values
        return self

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.drop(columns=[self.target], errors="ignore").copy()
        dates = pd.to_datetime(frame[self.date_column])
        days = days_since_epoch(frame[self.date_column])
        out[DAY_OF_WEEK] = dates.dt.day_of_week.to_numpy()
        out[MONTH] = dates.dt.month.to_numpy()
        out[DAY_OF_YEAR] = dates.dt.day_of_year.to_numpy()
        out[TREND] = (days - self.origin_).astype(np.float64)
        if self.lags:
            self._add_lags(out, frame, days)
        for column in self.categorical:
            # Categories as text (a reader may give numbers-as-text back as numbers), and one
            # representation of "missing" for the imputer, whatever the reader produced.
            missing = out[column].isna().to_numpy()
            values = out[column].astype(str).to_numpy(dtype=object)
            values[missing] = np.nan
            out[column] = values
        return out.drop(columns=[self.date_column])

    def _add_lags(self, out: pd.DataFrame, frame: pd.DataFrame, days: np.ndarray) -> None:
        """Each lag of the target, from the kept history and the frame's own known targets."""
        batch_days, batch_values = self._known(frame)
        known = pd.concat([pd.Series(self.history_values_, index=self.history_days_),
                           pd.Series(batch_values, index=batch_days)])
        known = known[~known.index.duplicated(keep="last")]
        for lag in self.lags:
            out[f"{LAG_PREFIX}{lag}"] = known.reindex(days - lag * self.step_days).to_numpy()


def preprocessor(numeric: list[str], categorical: list[str],
                 lags: tuple[int, ...] = TUTORIAL_LAGS) -> ColumnTransformer:
    """Impute and scale the numbers, one-hot encode strings and the weekday and month."""
    scaled = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    transformers = [
        ("numeric", scaled, [*numeric, DAY_OF_YEAR, TREND, *(f"{LAG_PREFIX}{k}" for k in lags)]),
        ("calendar", OneHotEncoder(categories=[list(range(7)), list(range(1, 13))],
                                   handle_unknown="ignore", sparse_output=False),
         [DAY_OF_WEEK, MONTH]),
    ]
    if categorical:
        encoded = Pipeline([
            ("impute", SimpleImputer(strategy="constant", fill_value=MISSING_CATEGORY)),
            ("encode", OneHotEncoder(handle_unknown="infrequent_if_exist",
                                     max_categories=MAX_CATEGORIES, sparse_output=False)),
        ])
        transformers.append(("categorical", encoded, categorical))
    return ColumnTransformer(transformers, remainder="drop")


def forecasting_model(estimator: RegressorMixin, frame: pd.DataFrame, target: str,
                      date_column: str, lags: tuple[int, ...] = TUTORIAL_LAGS,
                      step_days: int = 1) -> Pipeline:
    """An unfitted model from ``frame``'s raw columns to ``estimator``'s forecast: the feature
    steps (with the target's ``lags``, in steps of ``step_days``), then the estimator."""
    numeric, categorical = split_columns(frame, target, date_column)
    return Pipeline([
        ("features", CalendarLags(date_column, target, tuple(categorical), lags, step_days)),
        ("encode", preprocessor(numeric, categorical, lags)),
        (ESTIMATOR_STEP, estimator),
    ])
