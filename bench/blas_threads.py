"""Benchmark: BLAS threads per process when the cores are shared, as steps and test workers share
them.

Two processes at once each fit the ETS baseline (grocery/baseline_forecasts.py) on the same
synthetic series, first with OpenBLAS's default (a thread per core in each process), then with
one thread each (what steps/__init__.py sets); each reports its milliseconds a fit.

    .venv/bin/python -m bench.blas_threads [rounds]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bench.report import machine, median, table, write_section

FITS = 20
PROCESSES = 2
FIT = f"""
import json, time
import numpy as np
from grocery.baseline_forecasts import ets
rng = np.random.default_rng(0)
series = 100 + 10 * np.sin(np.arange(200) * 2 * np.pi / 7) + rng.normal(0, 5, 200)
ets(series, 14, 7)  # the first fit pays for imports and caches
start = time.perf_counter()
for _ in range({FITS}):
    ets(series, 14, 7)
print(json.dumps((time.perf_counter() - start) / {FITS} * 1000))
"""


def ms_per_fit(threads: str | None) -> float:
    """The median over ``PROCESSES`` processes fitting at once of their ms per fit, each with
    ``threads`` BLAS threads (None: OpenBLAS's default)."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if threads is not None:
        env["OPENBLAS_NUM_THREADS"] = threads
    processes = [subprocess.Popen([sys.executable, "-c", FIT], env=env, stdout=subprocess.PIPE,
                                  text=True) for _ in range(PROCESSES)]
    return median([json.loads(process.communicate()[0]) for process in processes])


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    times: dict[str, list[float]] = {"default": [], "1": []}
    for index in range(rounds):
        for key in times:
            times[key].append(ms_per_fit(None if key == "default" else key))
        print(f"round {index + 1}/{rounds}: default {times['default'][-1]:.0f} ms, "
              f"one thread {times['1'][-1]:.0f} ms a fit", flush=True)
    default, one = median(times["default"]), median(times["1"])
    result = table(("BLAS threads per process", "ms per ETS fit", "ratio"), [
        (f"OpenBLAS's default ({os.cpu_count()}, one per core)", f"{default:.0f}", "1.00x"),
        ("1 (steps/__init__.py)", f"{one:.0f}", f"{one / default:.2f}x"),
    ])
    print(result)
    write_section("blas", f"""## BLAS threads when processes share the cores

`.venv/bin/python -m bench.blas_threads {rounds}`: {rounds} rounds; in each, {PROCESSES}
processes at once fit the ETS baseline {FITS} times on the same 200-day series, as two test
workers or two products' train steps do side by side. Median of their milliseconds a fit.
Machine: {machine()}.

{result}

Every step process (`python -m steps.<name>`) and test process runs with one BLAS thread unless
`OPENBLAS_NUM_THREADS` says otherwise (steps/__init__.py, tests/__init__.py).
""")


if __name__ == "__main__":
    main()
