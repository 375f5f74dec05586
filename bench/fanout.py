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


def mlflow_run(product: str, tracking_uri: str, cwd: str) -> float:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
           "MLFLOW_TRACKING_URI": tracking_uri}
    return timed([str(BIN / "mlflow"), "run", str(PROJECT_DIR), "-P", f"product={product}",
                  "--env-manager", "local"], env=env, cwd=cwd)


def request_counts() -> collections.Counter:
    """API requests of one cold apples pipeline, by endpoint, from a real server's log."""
    with tempfile.TemporaryDirectory() as folder:
        server = TrackingServer(f"sqlite:///{folder}/mlflow.db", Path(folder)).start()
        try:
            before = len(server.requests())
            mlflow_run("apples", server.uri, folder)
            lines = server.requests()[before:]
        finally:
            server.stop()
    counts: collections.Counter = collections.Counter()
    for line in lines:
        method, path = line.split('"', 2)[1].split()[:2]
        # Artifact downloads and logged models are one endpoint each, whatever the file or id.
        path = re.sub(r"(/mlflow-artifacts/artifacts|/logged-models)/.+", r"\1/...",
                      path.split("?")[0])
        counts[f"{method} {path}"] += 1
    return counts


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
    counts = request_counts()
    result = table(("what", "median s", "ratio", "target"), [
        ("`-P product=apples` (one product)", f"{one:.1f}", "1.00x", ""),
        ("`-P product=all` (five, in parallel)", f"{every:.1f}", f"{every / one:.2f}x",
         "<= 3.0x (5x one after another)"),
    ])
    requests = table(("endpoint", "requests"),
                     [(k, v) for k, v in counts.most_common()] + [("total", sum(counts.values()))])
    print(result, requests, sep="\n\n")
    write_section("fanout", f"""## Fan-out and tracking round trips

`.venv/bin/python -m bench.fanout {rounds}`: {rounds} rounds, each on fresh SQLite stores,
`--env-manager local`, default `max_parallel` (one per core). Machine: {machine()}.

{result}

API requests one cold apples pipeline (`main` and its three steps, plus `mlflow run` itself)
makes to a real `mlflow server`, from its access log:

{requests}
""")


if __name__ == "__main__":
    main()
