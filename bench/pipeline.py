"""Benchmark: a cold pipeline run, the fully cached rerun, and the single-process floor.

Each round uses a fresh tracking store and measures the three side by side; the table gives
medians and ratios. Usage: `.venv/bin/python -m bench.pipeline [rounds]` (default 3).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from bench.report import machine, median, table, timed, write_section
from grocery.config import PROJECT_DIR

BIN = Path(sys.executable).parent
PRODUCT = "apples"


def measure(rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"cold": [], "cached": [], "floor": []}
    run = [str(BIN / "mlflow"), "run", str(PROJECT_DIR), "-P", f"product={PRODUCT}",
           "--env-manager", "local"]
    for index in range(rounds):
        with tempfile.TemporaryDirectory() as pipeline_store, \
                tempfile.TemporaryDirectory() as floor_store:
            env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
                   "MLFLOW_TRACKING_URI": f"sqlite:///{pipeline_store}/mlflow.db"}
            times["cold"].append(timed(run, env=env, cwd=pipeline_store))
            times["cached"].append(timed(run, env=env, cwd=pipeline_store))
            env["MLFLOW_TRACKING_URI"] = f"sqlite:///{floor_store}/mlflow.db"
            env["PYTHONPATH"] = str(PROJECT_DIR)
            times["floor"].append(timed([sys.executable, "-m", "bench.floor", PRODUCT],
                                        env=env, cwd=floor_store))
        print(f"round {index + 1}/{rounds}: " +
              ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), flush=True)
    return times


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    times = measure(rounds)
    cold, cached, floor = (median(times[k]) for k in ("cold", "cached", "floor"))
    rows = [
        ("cold `mlflow run . -P product=apples`", f"{cold:.2f}", f"{cold / floor:.2f}x floor",
         "target <= 2.5x floor"),
        ("cached rerun (all three steps reused)", f"{cached:.2f}", f"{cached / cold:.2f}x cold",
         "target <= 0.35x cold"),
        ("single-process floor (bench/floor.py)", f"{floor:.2f}", "1.00x floor", ""),
    ]
    result = table(("what", "median s", "ratio", "target"), rows)
    print(result)
    write_section("pipeline", f"""## Pipeline: cold, cached, floor

`.venv/bin/python -m bench.pipeline {rounds}`: {rounds} rounds, each on a fresh SQLite store,
`--env-manager local`, product apples (1000 rows). Machine: {machine()}.

{result}
""")


if __name__ == "__main__":
    main()
