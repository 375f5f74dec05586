"""grocery.department_totals: a department's bottom-up total scored from its products' train
runs, against a real SQLite tracking store."""

from __future__ import annotations

import tempfile
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from grocery.config import load_config
from grocery.department_totals import complete_departments, department_metrics
from grocery.evaluation import summed_scores
from grocery.orchestration import FAILED, FINISHED, ProductResult
from grocery.training import PLOTS_DIR, TOTAL_BACKTEST_FILE, TOTAL_HISTORY_FILE

CATALOG = load_config()
DAYS = pd.date_range("2023-01-01", periods=60, freq="D")


def totals_of(scale: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A product's daily total history and a two-fold backtest of its last 14 days."""
    rng = np.random.default_rng(int(scale))
    actual = scale * (10 + np.sin(np.arange(60)) + rng.normal(0, 0.1, 60))
    history = pd.DataFrame({"date": DAYS, "actual": actual})
    rows = []
    for fold, origin in ((1, 45), (2, 52)):
        for h in range(1, 8):
            day = origin + h
            rows.append({"fold": fold, "origin": DAYS[origin], "h": h, "date": DAYS[day],
                         "actual": actual[day], "forecast": actual[day] + scale * 0.3})
    return history, pd.DataFrame(rows)


def logged_train_run(history: pd.DataFrame, backtest: pd.DataFrame) -> str:
    with mlflow.start_run() as run, tempfile.TemporaryDirectory() as folder:
        history.to_parquet(Path(folder) / TOTAL_HISTORY_FILE, index=False)
        backtest.to_parquet(Path(folder) / TOTAL_BACKTEST_FILE, index=False)
        mlflow.log_artifacts(folder, PLOTS_DIR)
    return run.info.run_id


@pytest.fixture
def tracking(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    yield
    mlflow.set_tracking_uri(None)


def result(name: str, status: str = FINISHED, train_run_id: str | None = "run") -> ProductResult:
    return ProductResult(CATALOG.products[name], "parent", status, train_run_id=train_run_id)


def test_only_departments_whose_every_product_finished_are_complete():
    dairy = [p.name for p in CATALOG.resolve("dairy")]
    produce = [p.name for p in CATALOG.resolve("produce")]
    results = [result(name) for name in dairy] + [result(produce[0]),
                                                  result(produce[1], FAILED)]
    complete = complete_departments(results, CATALOG)
    assert list(complete) == ["dairy"]
    assert [r.product.name for r in complete["dairy"]] == dairy


def test_a_department_is_scored_on_its_products_totals_added_day_by_day(tracking):
    dairy = [p.name for p in CATALOG.resolve("dairy")]
    parts = [totals_of(10.0 * (index + 1)) for index in range(len(dairy))]
    results = [result(name, train_run_id=logged_train_run(*part))
               for name, part in zip(dairy, parts, strict=True)]
    metrics = department_metrics(results, CATALOG)
    expected = summed_scores([h for h, _ in parts], [b for _, b in parts], 7)
    assert metrics == {f"dairy_total_{name}": value for name, value in expected.items()}
    # Every product's forecast is off by 0.3 of its scale: the total by the sum of those.
    assert expected["rmse"] == pytest.approx(0.3 * sum(10.0 * (i + 1) for i in range(len(dairy))))
