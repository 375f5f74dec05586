"""The feature names and column tests that a table's validation uses without sklearn."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

from grocery.feature_columns import DERIVED, LAGS, days_since_epoch, is_categorical


def test_derived_names_hold_the_tutorial_lags():
    assert set(LAGS) <= set(DERIVED)
    assert sorted(LAGS.values()) == [1, 7]


def test_days_since_epoch_parses_text():
    days = days_since_epoch(pd.Series(["1970-01-02", "2023-10-03"]))
    assert list(days) == [1, 19633]


def test_strings_and_categories_are_categorical_numbers_are_not():
    assert is_categorical(pd.Series(["a", "b"]))
    assert is_categorical(pd.Series(["a", "b"], dtype="category"))
    assert not is_categorical(pd.Series([1.0, 2.0]))


def test_checking_a_table_imports_no_sklearn():
    # The steps that fit nothing (main, prepare) check users' tables through this module.
    code = "import sys, grocery.validation, grocery.own_data; print('sklearn' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False"
