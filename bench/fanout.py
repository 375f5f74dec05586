"""Benchmark: the whole catalog against one product, and the HTTP requests of one pipeline.

`-P product=all` (five products, run in parallel) and `-P product=apples` are timed side by side
on fresh SQLite stores; then one apples pipeline runs against a real `mlflow server` and its
API requests are counted from the server's access log.

    .venv/bin/python -m bench.fanout [rounds]
"""

from __future__ import annotations

import collections
import os
import re
import sys
import tempfile
from pathlib import Path

from bench.report import machine, median, table, timed, write_section
from grocery.config import PROJECT_DIR
from scripts.services import TrackingServer

BIN = Path(sys.executable).parent


def mlflow_run(product: str, tracking_uri: str, cwd: str, *params: str) -> float:
    # MLflow's settings as a user who types the command has them (none but telemetry off: no
    # reaching past loopback), not this shell's.
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")},
           "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
           "MLFLOW_TRACKING_URI": tracking_uri, "MLFLOW_DISABLE_TELEMETRY": "true"}
    return timed([str(BIN / "mlflow"), "run", str(PROJECT_DIR), "-P", f"product={product}",
                  *(arg for param in params for arg in ("-P", param)), "--env-manager", "local"],
                 env=env, cwd=cwd)


def by_endpoint(lines: list[str]) -> collections.Counter:
    """Access-log lines counted by method and endpoint."""
    counts: collections.Counter = collections.Counter()
    for line in lines:
        method, path = line.split('"', 2)[1].split()[:2]
        # Artifact downloads and logged models are one endpoint each, whatever the file or id.
        path = re.sub(r"(/mlflow-artifacts/artifacts|/logged-models)/.+", r"\1/...",
                      path.split("?")[0])
        counts[f"{method} {path}"] += 1
    return counts


def request_counts() -> tuple[collections.Counter, collections.Counter]:
    """API requests, by endpoint, from a real server's log: of a cold apples pipeline on a new
    server (it creates the experiment and the registered model), then of a second one with
    another seed (the experiment, model and champion exist: the gate refits the champion)."""
    with tempfile.TemporaryDirectory() as folder:
        server = TrackingServer(f"sqlite:///{folder}/mlflow.db", Path(folder)).start()
        try:
            counted = []
            for params in ((), ("seed=2",)):
                before = len(server.requests())
                mlflow_run("apples", server.uri, folder, *params)
                counted.append(by_endpoint(server.requests()[before:]))
        finally:
            server.stop()
    return counted[0], counted[1]


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    times: dict[str, list[float]] = {"one": [], "all": []}
    for index in range(rounds):
        for key, product in (("one", "apples"), ("all", "all")):
            with tempfile.TemporaryDirectory() as folder:
                times[key].append(mlflow_run(product, f"sqlite:///{folder}/mlflow.db", folder))
        print(f"round {index + 1}/{rounds}: one {times['one'][-1]:.1f} s, "
              f"all {times['all'][-1]:.1f} s", flush=True)
    one, every = median(times["one"]), median(times["all"])
    first, second = request_counts()
    result = table(("what", "median s", "ratio", "target"), [
        ("`-P product=apples` (one product)", f"{one:.1f}", "1.00x", ""),
        ("`-P product=all` (five, in parallel)", f"{every:.1f}", f"{every / one:.2f}x",
         "<= 3.0x (5x one after another)"),
    ])
    endpoints = [k for k, _ in (first + second).most_common()]
    requests = table(("endpoint", "first pipeline", "second pipeline"),
                     [(k, first[k], second[k]) for k in endpoints]
                     + [("total", sum(first.values()), sum(second.values()))])
    print(result, requests, sep="\n\n")
    write_section("fanout", f"""## Fan-out and tracking round trips

`.venv/bin/python -m bench.fanout {rounds}`: {rounds} rounds, each on fresh SQLite stores,
`--env-manager local`, default `max_parallel` (one per core). Machine: {machine()}.

{result}

API requests of a cold apples pipeline (`main` and its three steps, plus `mlflow run` itself)
on a new `mlflow server` (it creates the experiment and the registered model), then of a second
with `-P seed=2` on the same server (the gate refits the champion), from the access log:

{requests}
""")


if __name__ == "__main__":
    main()
