"""A department's forecast as the sum of its products' (bottom-up): after a chain's pipelines,
each department whose every catalog product finished is scored on the sum of its products'
totals, which their train runs logged, and the scores are logged on the run that launched them.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import mlflow
import pandas as pd

from grocery.config import Config
from grocery.evaluation import summed_scores
from grocery.frequency import DAILY
from grocery.orchestration import FINISHED, ProductResult
from grocery.tracking import log_record
from grocery.training import PLOTS_DIR, TOTAL_BACKTEST_FILE, TOTAL_HISTORY_FILE


def complete_departments(results: list[ProductResult],
                         catalog: Config) -> dict[str, list[ProductResult]]:
    """The departments all of whose catalog products ran to the end here, with their results."""
    finished = {r.product.name: r for r in results
                if r.status == FINISHED and r.train_run_id is not None}
    complete = {}
    for department in catalog.departments:
        products = [p.name for p in catalog.resolve(department)]
        if all(name in finished for name in products):
            complete[department] = [finished[name] for name in products]
    return complete


def _totals(train_run_id: str, folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A train run's total history and total backtest, downloaded into ``folder``."""
    frames = []
    for name in (TOTAL_HISTORY_FILE, TOTAL_BACKTEST_FILE):
        path = mlflow.artifacts.download_artifacts(
            run_id=train_run_id, artifact_path=f"{PLOTS_DIR}/{name}",
            dst_path=str(folder / train_run_id))
        frames.append(pd.read_parquet(path))
    return frames[0], frames[1]


def department_metrics(results: list[ProductResult], catalog: Config) -> dict[str, float]:
    """``<department>_total_rmse``, ``_mae`` and ``_mase`` of every complete department: its
    products' chain totals added up day by day."""
    metrics = {}
    with tempfile.TemporaryDirectory(prefix="grocery-totals-") as scratch:
        for department, members in complete_departments(results, catalog).items():
            parts = [_totals(member.train_run_id, Path(scratch)) for member in members]
            scores = summed_scores([h for h, _ in parts], [b for _, b in parts], DAILY.season)
            metrics.update({f"{department}_total_{k}": v for k, v in scores.items()})
    return metrics


def record_departments(results: list[ProductResult], catalog: Config,
                       launcher_run_id: str | None) -> list[str]:
    """Score every complete department, log the scores on the launcher run (if any) in one
    request, and return a printed line per department."""
    metrics = department_metrics(results, catalog)
    if launcher_run_id and metrics:
        log_record(launcher_run_id, metrics)
    departments = sorted({name.split("_total_")[0] for name in metrics})
    return [f"{d} department: bottom-up total of its products, rmse "
            f"{metrics[f'{d}_total_rmse']:.2f} mase {metrics[f'{d}_total_mase']:.3f}"
            for d in departments]
