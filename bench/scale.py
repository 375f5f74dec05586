"""Time and peak memory of `prepare` and `train` at 10^4, 10^5 and 10^6 rows.

Each measurement is the real `mlflow run . -e <step> --env-manager local` on a fresh SQLite
store, product apples, the default model; peak memory is the largest resident set of the step's
processes (read from the kernel's accounting of a wrapper process). Prints a table of medians
over rounds and writes it to docs/benchmarks.md.

    .venv/bin/python -m bench.scale [rounds] [rows ...]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.report import machine, median, table, write_section
from grocery.config import load_config

PROJECT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_ROWS = (10_000, 100_000, 1_000_000)
PRODUCT, EXPERIMENT = "apples", "Apple_Models"
# Runs a command and prints its wall seconds and the peak RSS (KiB) of its process tree.
_WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
seconds = time.perf_counter() - start
if done.returncode:
    sys.exit(done.stdout + done.stderr)
print(json.dumps({"seconds": seconds,
                  "kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  "stdout": done.stdout}))
"""


def measure(store: Path, entry_point: str, **params: object) -> dict:
    """Seconds and peak MiB of one `mlflow run` of ``entry_point`` against ``store``."""
    command = [str(BIN / "mlflow"), "run", str(PROJECT), "-e", entry_point, "--env-manager",
               "local", "--experiment-name", EXPERIMENT]
    for key, value in params.items():
        command += ["-P", f"{key}={value}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(MLFLOW_TRACKING_URI=f"sqlite:///{store / 'mlflow.db'}",
               PATH=f"{BIN}{os.pathsep}{env['PATH']}")
    done = subprocess.run([sys.executable, "-c", _WRAPPER, *command], env=env, cwd=store,
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{entry_point} failed:\n{done.stdout}\n{done.stderr}")
    result = json.loads(done.stdout)
    return {"seconds": result["seconds"], "mib": result["kib"] / 1024,
            "stdout": result["stdout"]}


def one_round(rows: int) -> dict[str, dict]:
    """prepare then train at ``rows`` on a fresh store."""
    with tempfile.TemporaryDirectory(prefix="grocery-scale-") as folder:
        store = Path(folder)
        subprocess.run([str(BIN / "python"), "-c",
                        "import mlflow, sys; mlflow.set_tracking_uri(sys.argv[1]); "
                        "mlflow.MlflowClient().create_experiment(sys.argv[2], "
                        "artifact_location=sys.argv[3])",
                        f"sqlite:///{store / 'mlflow.db'}", EXPERIMENT,
                        (store / "artifacts").as_uri()], check=True, capture_output=True)
        prepare = measure(store, "prepare", product=PRODUCT, rows=rows)
        run_id = prepare["stdout"].split("prepare: run ", 1)[1].split(",", 1)[0]
        train = measure(store, "train", data=f"runs:/{run_id}/data")
        return {"prepare": prepare, "train": train}


def main(rounds: int, sizes: tuple[int, ...]) -> None:
    results = {rows: [one_round(rows) for _ in range(rounds)] for rows in sizes}
    header = ["rows", "prepare s", "prepare MiB", "train s", "train MiB",
              "prepare + train s over the smallest"]
    lines, smallest = [], None
    for rows, runs in results.items():
        figures = {step: (median([r[step]["seconds"] for r in runs]),
                          median([r[step]["mib"] for r in runs])) for step in ("prepare", "train")}
        total = figures["prepare"][0] + figures["train"][0]
        smallest = total if smallest is None else smallest
        lines.append([f"{rows:,}", f"{figures['prepare'][0]:.1f}", f"{figures['prepare'][1]:.0f}",
                      f"{figures['train'][0]:.1f}", f"{figures['train'][1]:.0f}",
                      f"{total - smallest:+.1f}"])
    text = table(header, lines)
    print(text)
    write_section("scale", f"""## Scale: prepare and train at 10^4 to 10^6 rows

`.venv/bin/python -m bench.scale {rounds} {' '.join(map(str, sizes))}`: medians of {rounds}
round(s), each a fresh SQLite store; `mlflow run . -e prepare|train --env-manager local`,
product apples, model `{load_config().default_model}` (the default). Seconds are wall time of
the whole `mlflow run`, most of it the fixed cost of starting MLflow and Python (the last column
is what the rows themselves cost); MiB is the peak resident set of the step's processes. Target:
near-linear growth, peak memory under 2 GiB at 10^6 rows. Other work shared the 2 cores while
this ran, so single seconds are noise.
Machine: {machine()}.

{text}""")


if __name__ == "__main__":
    arguments = sys.argv[1:]
    main(int(arguments[0]) if arguments else 1,
         tuple(int(a) for a in arguments[1:]) or DEFAULT_ROWS)
