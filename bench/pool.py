"""Benchmark: joblib's pool against this process for train's per-series work, small chains to
larger ones, to place the floor below which ``engine=local`` keeps the work in the train
process (grocery/engines.py, ``POOL_MIN_WORK``).

Each case prepares one chain with the real prepare step, then, in a new process each time (the
pool's start-up is part of what is measured), runs train's backtest and final fit on it with one
worker (this process) and with two (joblib's pool): wall seconds of that work, and CPU seconds of
the whole process with its workers.

    .venv/bin/python -m bench.pool [rounds]
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.report import machine, median, table, write_section
from grocery.config import PROJECT_DIR
from grocery.names import PREPARE
from tests.mlproject import step_command

# (days of history, backtest origins, stores): the tests' short chains and the defaults' days.
CASES = ((100, 2, 10), (100, 2, 50), (100, 2, 100), (1000, 5, 10), (1000, 5, 30), (1000, 5, 60))
WORK = """
import steps  # first, as in a step process: one BLAS thread (steps/__init__.py)
import json, sys, time
from functools import partial
from grocery import training
from grocery.config import load_config
from grocery.engines import map_chunks
from grocery.evaluation import run_backtest
from grocery.forecaster import fit_forecaster
from grocery.modeling import resolve_hyperparameters
from grocery.prepared import full_table, load_prepared
data, workers = sys.argv[1], int(sys.argv[2])
config = load_config()
choice = config.model("ridge")
params = resolve_hyperparameters(choice, {})
train, validation, prepared = load_prepared(data)
spec = training.forecast_spec(prepared, config.forecast_strategy, "global")
table = full_table(train, validation, prepared)
mapper = partial(map_chunks, workers=workers)
start = time.perf_counter()
run_backtest(choice, params, table, spec, prepared.folds, mapper)
fit_forecaster(choice, params, table, spec, mapper)
print(json.dumps(time.perf_counter() - start))
"""


def prepared_chain(env: dict[str, str], rows: int, folds: int, stores: int) -> str:
    """The data URI of a chain of ``stores`` apples stores made by the real prepare step,
    started as `mlflow run -e prepare` starts it (MLproject's command and defaults)."""
    command = step_command(PREPARE, product="apples", rows=rows, folds=folds, stores=stores)
    done = subprocess.run([sys.executable, *command[1:]], cwd=PROJECT_DIR, env=env,
                          capture_output=True, text=True, check=True)
    return re.search(r"runs:/[0-9a-f]+/data", done.stdout).group(0)


def measured(env: dict[str, str], data: str, workers: int) -> tuple[float, float]:
    """Wall seconds of the backtest and final fit with ``workers`` workers, and CPU seconds of
    the process that ran them (its workers included)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([sys.executable, "-c", WORK, data, str(workers)], cwd=PROJECT_DIR,
                          env=env, capture_output=True, text=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return json.loads(done.stdout.splitlines()[-1]), cpu


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
        env.update(MLFLOW_TRACKING_URI=f"sqlite:///{Path(folder) / 'mlflow.db'}",
                   MLFLOW_DISABLE_TELEMETRY="true")
        for days, folds, stores in CASES:
            data = prepared_chain(env, days, folds, stores)
            here = [measured(env, data, 1) for _ in range(rounds)]
            pool = [measured(env, data, 2) for _ in range(rounds)]
            wall = median([w for w, _ in here]), median([w for w, _ in pool])
            cpu = median([c for _, c in here]), median([c for _, c in pool])
            rows.append((f"{days} days, {folds} origins, {stores} stores", stores * folds,
                         f"{wall[0]:.1f}", f"{wall[1]:.1f}", f"{wall[1] / wall[0]:.2f}x",
                         f"{cpu[0]:.1f}", f"{cpu[1]:.1f}"))
            print(" | ".join(map(str, rows[-1])), flush=True)
    result = table(("chain", "series x origins", "this process s", "pool s", "pool / this",
                    "CPU s, this process", "CPU s, pool"), rows)
    print(result)
    write_section("pool", f"""## Many series: joblib's pool for small chains

`.venv/bin/python -m bench.pool {rounds}`: each chain of apples stores made by the prepare
step; then, {rounds} times each in a new process, train's backtest and final fit of the global
model on it with one worker (the train process) and with joblib's two: median wall seconds of
that work (the pool's start-up included), and median CPU seconds of the whole process with its
workers (its imports included, the same in both). Machine: {machine()}.

{result}
""")


if __name__ == "__main__":
    main()
