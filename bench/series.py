"""Benchmark: a chain's worth of series, one product's pipeline from 10 to 10,000 store series.

Parts, each runnable alone (``part:n,n`` sets its series counts):

- ``curve`` (10, 100, 1,000): the real `mlflow run . -P product=apples -P stores=N` against a real
  `mlflow server`: wall time, peak memory of the process tree (and of the train step's
  processes, per table row), API requests from the server's access log, each step run's
  duration, and how the time grows with the series.
- ``models`` (1,000): the global model against one model per series, trained on one prepared
  chain: the train runs' scores and durations.
- ``ray`` (200): per-series models trained through a two-node Ray cluster on loopback against
  joblib on the same cores, and the same-metrics check.
- ``chain`` (6,000): `-P product=all -P stores=N` end to end on a SQLite store.

Memory is sampled from /proc every ``SAMPLE_SECONDS``: the resident sets of every process under
the command summed, and the largest single process from the kernel's accounting (wait4).

    .venv/bin/python -m bench.series [part[:n,...] ...]   (default: curve models ray)
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from mlflow.tracking import MlflowClient

from bench.report import machine, median, table, write_section
from grocery.config import PROJECT_DIR
from grocery.cpus import available_cpus
from grocery.names import (
    GLOBAL,
    LOCAL,
    PER_SERIES,
    PREPARE,
    RAY,
    STEPS,
    TAG_PRODUCT,
    TAG_STEP,
    TRAIN,
)
from scripts.services import TrackingServer
from tests.ray_cluster import RAY_ENV, two_nodes

BIN = Path(sys.executable).parent
PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1 << 20
SAMPLE_SECONDS = 0.25
PRODUCT, EXPERIMENT, ROWS = "apples", "Apple_Models", 1000
DEFAULTS = {"curve": (10, 100, 1000), "models": (1000,), "ray": (200,), "chain": (6000,)}
GROWTH_BAR = 12.0  # the bar: 10x the series in at most 12x the time above 1,000 series
MODEL_SCORES = ("rmse", "mase", "coverage_80", "series_mase_p90")
COVERAGE_TARGET = {"coverage_80": 0.80, "coverage_95": 0.95}
SAME_METRICS_TOLERANCE = 1e-9
RAY_ROUNDS = 2
QUIET_LOAD = 0.10  # others' load up to which the machine counts as quiet

ProcessTable = Mapping[int, tuple[int, int, str]]  # pid -> (parent pid, resident bytes, command)


# --- Pure parts: arguments, process trees, ratios, comparisons.

def parse_parts(arguments: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """``["curve:10,100", "ray"]`` -> each part's series counts (its defaults when none given)."""
    parts = {}
    for argument in arguments or DEFAULTS.keys() - {"chain"}:
        name, _, counts = argument.partition(":")
        if name not in DEFAULTS:
            raise SystemExit(f"error: unknown part {name!r}; valid: {', '.join(DEFAULTS)}")
        parts[name] = tuple(int(n) for n in counts.split(",")) if counts else DEFAULTS[name]
    return parts


def descendants(processes: ProcessTable, root: int) -> set[int]:
    """``root`` and every process below it."""
    children: dict[int, list[int]] = defaultdict(list)
    for pid, (parent, _, _) in processes.items():
        children[parent].append(pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, ()))
    return found


def tree_bytes(processes: ProcessTable, root: int) -> int:
    """Resident bytes of ``root`` and every process below it."""
    return sum(processes[pid][1] for pid in descendants(processes, root) if pid in processes)


def step_bytes(processes: ProcessTable, root: int) -> dict[str, int]:
    """Resident bytes of each step's processes under ``root``: every `-m steps.<step>` process
    whose parent is not one too (a shell running it), with all below it, summed over products."""
    tree = descendants(processes, root)
    steps = {pid: step for pid in tree for step in STEPS
             if f"-m steps.{step} " in processes[pid][2] + " "}
    result: dict[str, int] = defaultdict(int)
    for pid, step in steps.items():
        if steps.get(processes[pid][0]) != step:
            result[step] += tree_bytes(processes, pid)
    return dict(result)


def growth(points: Sequence[tuple[int, float]]) -> list[float | None]:
    """Each point's seconds over the previous point's (None for the first)."""
    return [None if index == 0 else seconds / points[index - 1][1]
            for index, (_, seconds) in enumerate(points)]


def marginal(points: Sequence[tuple[int, float]]) -> list[float | None]:
    """What each point adds per unit over the previous one: (y - y0) / (x - x0), None first."""
    return [None if index == 0 else (y - points[index - 1][1]) / (x - points[index - 1][0])
            for index, (x, y) in enumerate(points)]


def meets_growth_bar(points: Sequence[tuple[int, float]]) -> bool | None:
    """Whether every 10x step of the series from 1,000 up costs at most 12x the time (None when
    the curve has no such step)."""
    judged = [ratio for (series, _), ratio in zip(points, growth(points), strict=True)
              if ratio is not None and series > 1000]
    return all(ratio <= GROWTH_BAR for ratio in judged) if judged else None


def metric_gap(first: float | None, second: float | None) -> float:
    """How far apart two values of a metric are: inf when one is missing or NaN, 0 for two NaNs."""
    if first is None or second is None:
        return math.inf
    if math.isnan(first) or math.isnan(second):
        return 0.0 if math.isnan(first) and math.isnan(second) else math.inf
    return abs(first - second)


def largest_difference(first: Mapping[str, float], second: Mapping[str, float]
                       ) -> tuple[str, float]:
    """The metric on which two runs differ most, and by how much."""
    gaps = [(name, metric_gap(first.get(name), second.get(name)))
            for name in sorted(set(first) | set(second))]
    return max(gaps, key=lambda pair: pair[1], default=("", 0.0))


def better(metric: str, global_value: float, per_series_value: float) -> str:
    """Which model wins on ``metric``: coverage nearest its target, any other score lowest."""
    target = COVERAGE_TARGET.get(metric)
    a, b = ((abs(global_value - target), abs(per_series_value - target)) if target is not None
            else (global_value, per_series_value))
    return "tie" if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) else (
        GLOBAL if a < b else PER_SERIES)


def load_note(shares: Sequence[float]) -> str:
    """A sentence on the other work that shared the cores while ``shares`` were measured."""
    most = max(shares, default=0.0)
    if most <= QUIET_LOAD:
        return f"The machine was otherwise quiet (others' load at most {most:.0%})."
    return (f"Taken under load: other work took up to {most:.0%} of the cores meanwhile "
            "(others' load), so single seconds are noisy.")


def mib(value: float) -> str:
    return f"{value / MIB:,.0f}"


def ratio_text(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}x"


# --- Measuring a command: wall time, peak memory, its runs.

def busy_seconds() -> float:
    """CPU seconds every core of the machine has spent busy since boot (/proc/stat)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _, _, irq, softirq, steal = ticks
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def others_share(busy: float, own: float, seconds: float, cores: int) -> float:
    """The share of the machine's cores busy with other work than the measured command's
    (``busy`` CPU seconds in all, ``own`` its processes') during ``seconds``."""
    return max(busy - own, 0.0) / (seconds * cores)


def tree_cpu_seconds(root: int | None) -> float:
    """CPU seconds spent so far by ``root`` and every process below it (with their reaped
    children); 0 for no root."""
    if root is None:
        return 0.0
    total = 0
    for pid in descendants(process_table(), root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


def process_table() -> dict[int, tuple[int, int, str]]:
    """Every process readable now: pid -> (parent pid, resident bytes, command line)."""
    processes = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_text()
            pages = int(Path(f"/proc/{name}/statm").read_text().split()[1])
            command = Path(f"/proc/{name}/cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        processes[int(name)] = (parent, pages * PAGE, command.decode(errors="replace"))
    return processes


@dataclass
class Peaks:
    """The largest sums seen under one process: the whole tree, and each step's processes."""

    root: int
    tree: int = 0
    steps: dict[str, int] = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)

    def watch(self) -> None:
        """Sample until ``done`` is set."""
        while not self.done.wait(SAMPLE_SECONDS):
            processes = process_table()
            self.tree = max(self.tree, tree_bytes(processes, self.root))
            for step, size in step_bytes(processes, self.root).items():
                self.steps[step] = max(self.steps.get(step, 0), size)


@dataclass
class Measured:
    seconds: float
    tree_bytes: int  # the process tree's summed resident sets at their peak (sampled)
    largest_bytes: int  # the largest single process's peak (the kernel's ru_maxrss)
    step_bytes: dict[str, int]
    stdout: str
    others: float  # the share of the cores other work took meanwhile (others_share)


def environment(tracking_uri: str, **extra: str) -> dict[str, str]:
    """This environment without MLflow's settings, tracking to ``tracking_uri``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    return {**env, "MLFLOW_TRACKING_URI": tracking_uri,
            "PATH": f"{BIN}{os.pathsep}{env['PATH']}", **extra}


def measure(command: Sequence[str], env: Mapping[str, str], folder: Path,
            server: int | None = None) -> Measured:
    """Run ``command`` (which must succeed) in ``folder``, watching its memory; the CPU of the
    ``server`` process tree (the tracking server it talks to) counts as its own."""
    with open(folder / "out.log", "w") as out, open(folder / "err.log", "w") as err:
        served = tree_cpu_seconds(server)
        start, busy = time.perf_counter(), busy_seconds()
        process = subprocess.Popen(list(command), env=dict(env), cwd=folder, stdout=out,
                                   stderr=err)
        peaks = Peaks(process.pid)
        watcher = threading.Thread(target=peaks.watch, daemon=True)
        watcher.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds, busy = time.perf_counter() - start, busy_seconds() - busy
        process.returncode = os.waitstatus_to_exitcode(status)
        peaks.done.set()
        watcher.join()
    stdout = (folder / "out.log").read_text()
    if process.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{stdout[-3000:]}\n"
                           f"{(folder / 'err.log').read_text()[-5000:]}")
    own = usage.ru_utime + usage.ru_stime + tree_cpu_seconds(server) - served
    others = others_share(busy, own, seconds, os.cpu_count() or 1)
    return Measured(seconds, peaks.tree, usage.ru_maxrss * 1024, peaks.steps, stdout, others)


def mlflow_run(*params: str, entry_point: str = "main") -> list[str]:
    """`mlflow run` of this project with ``name=value`` parameters; a single step runs in the
    benchmark's experiment, main (as a user runs it) chooses its own."""
    command = [str(BIN / "mlflow"), "run", str(PROJECT_DIR), "-e", entry_point,
               "--env-manager", "local"]
    if entry_point != "main":
        command += ["--experiment-name", EXPERIMENT]
    for param in params:
        command += ["-P", param]
    return command


@dataclass
class StepRun:
    product: str
    step: str
    run_id: str
    seconds: float
    metrics: dict[str, float]


def step_runs(tracking_uri: str) -> list[StepRun]:
    """Every step run of the store, with its duration from the run's start and end times."""
    client = MlflowClient(tracking_uri=tracking_uri)
    experiments = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(experiments, max_results=10_000)
    return [StepRun(run.data.tags.get(TAG_PRODUCT, ""), run.data.tags[TAG_STEP], run.info.run_id,
                    (run.info.end_time - run.info.start_time) / 1000, dict(run.data.metrics))
            for run in runs if run.data.tags.get(TAG_STEP) in STEPS and run.info.end_time]


def durations(runs: Sequence[StepRun], product: str | None = None) -> dict[str, float]:
    """Seconds of each step (summed over products unless ``product`` is named)."""
    result: dict[str, float] = defaultdict(float)
    for run in runs:
        if product is None or run.product == product:
            result[run.step] += run.seconds
    return dict(result)


@contextmanager
def sqlite_store() -> Iterator[tuple[Path, str]]:
    """A temporary folder and a fresh SQLite store in it, the experiment created in this
    process (several processes creating one store at once would race on its tables)."""
    with tempfile.TemporaryDirectory(prefix="grocery-series-") as name:
        folder = Path(name)
        uri = f"sqlite:///{folder / 'mlflow.db'}"
        MlflowClient(tracking_uri=uri).create_experiment(
            EXPERIMENT, artifact_location=(folder / "artifacts").as_uri())
        yield folder, uri


def prepare_chain(folder: Path, uri: str, stores: int) -> str:
    """prepare of a ``stores``-store apples chain; its data URI."""
    measure(mlflow_run(f"product={PRODUCT}", f"stores={stores}", entry_point=PREPARE),
            environment(uri), folder)
    run = next(run for run in step_runs(uri) if run.step == PREPARE)
    return f"runs:/{run.run_id}/data"


def train(folder: Path, uri: str, data: str, *params: str, env: Mapping[str, str] = {}
          ) -> tuple[Measured, StepRun]:
    """One train step on ``data``: its measure and its run."""
    before = {run.run_id for run in step_runs(uri)}
    measured = measure(mlflow_run(f"data={data}", *params, entry_point=TRAIN),
                       environment(uri, **env), folder)
    return measured, next(r for r in step_runs(uri) if r.run_id not in before)


# --- The parts.

def curve_point(stores: int) -> dict:
    """One cold apples pipeline of ``stores`` series against a fresh `mlflow server`."""
    with tempfile.TemporaryDirectory(prefix="grocery-series-") as name:
        folder = Path(name)
        server = TrackingServer(f"sqlite:///{folder / 'mlflow.db'}", folder).start()
        try:
            before = len(server.requests())
            measured = measure(mlflow_run(f"product={PRODUCT}", f"stores={stores}"),
                               environment(server.uri), folder, server.process.pid)
            requests = len(server.requests()) - before
            runs = step_runs(server.uri)
        finally:
            server.stop()
    print(f"curve {stores:,} series: {measured.seconds:.1f} s, {mib(measured.tree_bytes)} MiB, "
          f"{requests} requests", flush=True)
    return {"series": stores, "measured": measured, "requests": requests,
            "steps": durations(runs)}


def curve_table(points: Sequence[dict]) -> str:
    """The curve's table: one row per point."""
    ratios = growth([(p["series"], p["measured"].seconds) for p in points])
    trained = [(p["series"] * ROWS, p["measured"].step_bytes.get(TRAIN, 0)) for p in points]
    rows = []
    for point, ratio, (table_rows, peak), extra in zip(points, ratios, trained,
                                                       marginal(trained), strict=True):
        measured, steps = point["measured"], point["steps"]
        rows.append([f"{point['series']:,}", f"{table_rows:,}", f"{measured.seconds:.1f}",
                     ratio_text(ratio), *(f"{steps.get(step, 0):.1f}" for step in STEPS),
                     mib(measured.tree_bytes), mib(measured.largest_bytes), mib(peak),
                     f"{peak / table_rows / 1024:.2f}",
                     "" if extra is None else f"{extra / 1024:.2f}", point["requests"],
                     f"{measured.others:.0%}"])
    return table(("series", "rows", "wall s", "time / previous", "prepare s", "train s",
                  "register s", "tree peak MiB", "largest process MiB", "train peak MiB",
                  "train KiB a row", "train KiB an added row", "API requests", "others' load"),
                 rows)


def curve(sizes: Sequence[int]) -> None:
    points = [curve_point(stores) for stores in sizes]
    verdict = meets_growth_bar([(p["series"], p["measured"].seconds) for p in points])
    text = curve_table(points)
    bar = {None: "not judged (no step above 1,000 series)", True: "met", False: "missed"}
    print(text, f"growth bar (<= {GROWTH_BAR:.0f}x per 10x above 1,000 series): {bar[verdict]}",
          sep="\n")
    write_section("series-curve", f"""## Many series: one product from {sizes[0]:,} to \
{sizes[-1]:,} store series

`.venv/bin/python -m bench.series curve:{','.join(map(str, sizes))}`: one cold
`mlflow run . -P product=apples -P stores=N --env-manager local` per point (rows {ROWS} a
series, folds 5, the global ridge model, engine local), each against a fresh `mlflow server`
on a fresh SQLite store; backtest, final fit and registration included. Wall s is the whole
`mlflow run`; the step columns are the step runs' durations (their end minus start time); tree
peak is the summed resident sets of every process of the run at their peak (sampled every
{SAMPLE_SECONDS} s), largest process the peak of the biggest one (the kernel's ru_maxrss), train
peak the train step's processes (its joblib workers included), that per table row, and per
row added since the previous point (what a row costs beyond the processes' fixed size); API
requests are counted from the server's access log; others' load is the share of the cores
busy with other work than the run and its server meanwhile (from /proc/stat).
Growth bar (10x the series in at most {GROWTH_BAR:.0f}x the time above 1,000 series):
{bar[verdict]}. {load_note([p["measured"].others for p in points])}
Machine: {machine()}.

{text}""")


def models_tables(trained: Mapping[str, tuple[Measured, StepRun]]) -> tuple[str, str, str]:
    """The scores of each series model, which wins on each, and what the per-series one costs."""
    rows = [[kind, *(f"{run.metrics[s]:.4f}" for s in MODEL_SCORES), f"{run.seconds:.1f}",
             f"{measured.seconds:.1f}", mib(measured.tree_bytes), f"{measured.others:.0%}"]
            for kind, (measured, run) in trained.items()]
    runs = {kind: run for kind, (_, run) in trained.items()}
    wins = [[score, better(score, runs[GLOBAL].metrics[score], runs[PER_SERIES].metrics[score])]
            for score in MODEL_SCORES]
    cost = (f"One model per series took {runs[PER_SERIES].seconds / runs[GLOBAL].seconds:.2f}x "
            "the global model's train run time. "
            f"{load_note([measured.others for measured, _ in trained.values()])}")
    return (table(("series_model", *MODEL_SCORES, "train run s", "train wall s",
                   "tree peak MiB", "others' load"), rows),
            table(("score", "better"), wins), cost)


def models(sizes: Sequence[int]) -> None:
    for stores in sizes:
        with sqlite_store() as (folder, uri):
            data = prepare_chain(folder, uri, stores)
            trained = {kind: train(folder, uri, data, f"series_model={kind}")
                       for kind in (GLOBAL, PER_SERIES)}
        text, verdicts, cost = models_tables(trained)
        print(text, verdicts, cost, sep="\n\n")
        write_section("series-models", f"""## Many series: one global model or one per series

`.venv/bin/python -m bench.series models:{stores}`: one prepared apples chain of {stores:,}
stores (rows {ROWS} a series, folds 5, on a SQLite store), then
`mlflow run . -e train -P series_model=global|per_series` on it, the ridge model, engine local.
Scores are the train runs' backtest metrics (rmse and MASE over all series, the 80% interval's
coverage, the 90th percentile of the per-series MASE); train run s is the run's duration
(backtest at 5 origins, final fit, logging), wall s the whole `mlflow run`; tree peak and
others' load (the share of the cores busy with other work meanwhile) as in the curve above.
Machine: {machine()}.

{text}

Better (lower score; coverage nearer its 80%):

{verdicts}

{cost}""")


def engines_tables(trained: Mapping[str, Sequence[tuple[Measured, StepRun]]]) -> tuple[str, str]:
    """Each engine's medians against joblib's, and the same-metrics check of each round's runs."""
    walls = {e: median([m.seconds for m, _ in runs]) for e, runs in trained.items()}
    spans = {e: median([r.seconds for _, r in runs]) for e, runs in trained.items()}
    load = {e: median([m.others for m, _ in runs]) for e, runs in trained.items()}
    name, gap = max((largest_difference(a.metrics, b.metrics) for (_, a), (_, b)
                     in zip(trained[LOCAL], trained[RAY], strict=True)), key=lambda p: p[1])
    text = table(("engine", "train wall s", "train run s", "over joblib", "others' load"), [
        [f"joblib, {available_cpus()} processes", f"{walls[LOCAL]:.1f}",
         f"{spans[LOCAL]:.1f}", "1.00x", f"{load[LOCAL]:.0%}"],
        ["Ray, 2 nodes x 1 CPU on loopback", f"{walls[RAY]:.1f}", f"{spans[RAY]:.1f}",
         ratio_text(walls[RAY] / walls[LOCAL]), f"{load[RAY]:.0%}"]])
    same = "yes" if gap <= SAME_METRICS_TOLERANCE else "NO"
    return text, (f"Same metrics: {same}; of the {len(trained[LOCAL][0][1].metrics)} metrics "
                  f"of each train run (their last values) the largest difference between the "
                  f"engines is {gap:.3g}" + (f" ({name})." if gap else "."))


def engines(sizes: Sequence[int]) -> None:
    for stores in sizes:
        with sqlite_store() as (folder, uri), two_nodes() as cluster:
            started = cluster.start_seconds
            data = prepare_chain(folder, uri, stores)
            trained: dict[str, list[tuple[Measured, StepRun]]] = {LOCAL: [], RAY: []}
            for round_ in range(RAY_ROUNDS):
                for engine in (LOCAL, RAY):
                    where = [f"ray_address={cluster.address}"] if engine == RAY else []
                    trained[engine].append(train(folder, uri, data, f"series_model={PER_SERIES}",
                                                 f"engine={engine}", *where, env=RAY_ENV))
                    print(f"round {round_ + 1}: {engine} {trained[engine][-1][0].seconds:.1f} s",
                          flush=True)
        text, check = engines_tables(trained)
        print(text, check, f"cluster started in {started:.1f} s", sep="\n")
        write_section("series-ray", f"""## Many series: a two-node Ray cluster against joblib

`.venv/bin/python -m bench.series ray:{stores}`: one prepared apples chain of {stores:,} stores
(rows {ROWS} a series, folds 5, on a SQLite store), then
`mlflow run . -e train -P series_model=per_series -P engine=local|ray` on it, taking turns,
{RAY_ROUNDS} round(s), medians. engine=local is joblib's processes, one per core; engine=ray
is a Ray cluster of two nodes of one CPU each on this machine's loopback (`ray start --head` and
a second `ray start --address`, as the tests start it; {started:.0f} s to start, not counted; it
stays up, idle, during the joblib runs too). Wall s is the whole `mlflow run`, run s the train
run's duration; others' load as in the curve above (for Ray, its
nodes' work counts as others': they are not the run's processes). Same 2 cores either way:
Ray's cost is its scheduling, its object store and shipping the package to its workers.
{load_note([m.others for m, _ in trained[LOCAL]])}
Machine: {machine()}.

{text}

{check}""")


def chain(sizes: Sequence[int]) -> None:
    for stores in sizes:
        with tempfile.TemporaryDirectory(prefix="grocery-chain-") as name:
            folder = Path(name)
            uri = f"sqlite:///{folder / 'mlflow.db'}"
            measured = measure(mlflow_run("product=all", f"stores={stores}"), environment(uri),
                               folder)
            runs = step_runs(uri)
        products = sorted({run.product for run in runs})
        rows = [[product, *(f"{durations(runs, product).get(step, 0):.1f}" for step in STEPS)]
                for product in products]
        totals = durations(runs)
        rows.append(["all (sum)", *(f"{totals.get(step, 0):.1f}" for step in STEPS)])
        text = table(("product", *(f"{step} s" for step in STEPS)), rows)
        series, table_rows = stores * len(products), stores * len(products) * ROWS
        summary = (f"{series:,} series ({table_rows:,} rows): {measured.seconds / 60:.1f} min "
                   f"wall, tree peak {mib(measured.tree_bytes)} MiB, largest process "
                   f"{mib(measured.largest_bytes)} MiB, train processes at once "
                   f"{mib(measured.step_bytes.get(TRAIN, 0))} MiB; others' load "
                   f"{measured.others:.0%}")
        print(text, summary, sep="\n")
        write_section("series-chain", f"""## Many series: the M5-shaped chain

`.venv/bin/python -m bench.series chain:{stores}`: one
`mlflow run . -P product=all -P stores={stores} --env-manager local` on a fresh SQLite store
({len(products)} products x {stores:,} stores, rows {ROWS} a series, folds 5, the global ridge
model, engine local, default `max_parallel`: one product per core at once). Target: under
30 minutes and 16 GiB. The step columns are the step runs' durations; products ran two at a
time, so their sum exceeds the wall time. Peaks as in the curve above.
{load_note([measured.others])}
Machine: {machine()}.

{summary}.

{text}""")


PARTS = {"curve": curve, "models": models, "ray": engines, "chain": chain}


def main(arguments: Sequence[str]) -> None:
    for part, sizes in parse_parts(arguments).items():
        PARTS[part](sizes)


if __name__ == "__main__":
    main(sys.argv[1:])
