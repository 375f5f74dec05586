"""Where per-chunk work runs: joblib's worker processes on one machine (``engine=local``, the
default) or Ray tasks on a cluster (``engine=ray``), results in the order of the chunks.

The caller cuts its work into chunks (``chunked``) so that each worker gets one chunk, never a
copy of all the data: one task per series costs more than it saves (docs/benchmarks.md). Ray is
an optional extra (requirements-ray.txt), imported only on its own path.
"""

from __future__ import annotations

import atexit
import logging
import socket
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import TypeVar

from grocery.cpus import available_cpus
from grocery.errors import UserError, first_line
from grocery.names import ENGINES, LOCAL, RAY

# The package itself, shipped to Ray's workers: a node started elsewhere by `ray start` has the
# same Python packages installed but not this project's code.
PACKAGE_DIR = Path(__file__).resolve().parent
RAY_EXTRA = "engine=ray needs the Ray extra: pip install -r requirements-ray.txt"
RAY_DEFAULT_PORT = 6379
# How long to wait for a cluster's address to answer: Ray itself retries for minutes.
CONNECT_TIMEOUT_SECONDS = 5.0

# Below this much per-series work (series x backtest origins) joblib's pool costs more than the
# second core saves: its processes each import the science stack first (docs/benchmarks.md,
# "joblib's pool for small chains").
POOL_MIN_WORK = 100

T = TypeVar("T")
A = TypeVar("A")
R = TypeVar("R")


def chunked(items: Sequence[T], chunks: int) -> list[list[T]]:
    """``items`` cut into ``chunks`` contiguous pieces whose sizes differ by at most one, in
    order (fewer pieces when there are fewer items, none for no items)."""
    if chunks < 1:
        raise ValueError(f"chunks must be at least 1, got {chunks}")
    count = min(chunks, len(items))
    size, larger = divmod(len(items), count) if count else (0, 0)
    pieces, start = [], 0
    for index in range(count):
        end = start + size + (index < larger)
        pieces.append(list(items[start:end]))
        start = end
    return pieces


def map_chunks(fn: Callable[[A], R], arguments: Sequence[A], engine: str = LOCAL,
               address: str = "", workers: int | None = None) -> list[R]:
    """``[fn(argument) for argument in arguments]``, each call in a worker of ``engine``:
    ``local`` runs ``workers`` (default: this process's CPUs) joblib processes, ``ray`` one task
    per argument on the cluster at ``address`` (empty: a local Ray started for this call)."""
    check_engine(engine)
    if engine == RAY:
        return on_ray(fn, arguments, address)
    return on_joblib(fn, arguments, workers)


def chunk_mapper(engine: str, address: str, series: int, folds: int
                 ) -> Callable[[Callable[[A], R], Sequence[A]], list[R]]:
    """``map_chunks`` for train's per-series chunks of ``series`` series backtested at ``folds``
    origins: on ``engine`` (Ray at ``address``), or for ``local`` in joblib's processes once
    there are at least POOL_MIN_WORK series x origins, in the train process below that."""
    workers = 1 if engine == LOCAL and series * folds < POOL_MIN_WORK else None
    return partial(map_chunks, engine=engine, address=address, workers=workers)


def check_engine(engine: str) -> None:
    """A UserError naming the engines, unless ``engine`` is one."""
    if engine not in ENGINES:
        raise UserError(f"unknown engine {engine!r}; valid: {', '.join(ENGINES)}")


def on_joblib(fn: Callable[[A], R], arguments: Sequence[A],
              workers: int | None = None) -> list[R]:
    """``fn`` over ``arguments`` in joblib's loky processes; in this process when one worker
    would do (one argument or one CPU), sparing the pool's start-up."""
    jobs = min(workers or available_cpus(), len(arguments))
    if jobs <= 1:
        return [fn(argument) for argument in arguments]
    # Lazy: joblib costs ~0.16 s at start-up, which main (it only checks the engine) skips.
    from joblib import Parallel, delayed

    return Parallel(n_jobs=jobs, backend="loky")(delayed(fn)(argument) for argument in arguments)


def cluster_endpoint(address: str) -> tuple[str, int]:
    """The host and port of a Ray address (``host:port``, ``ray://host:port``; Ray's port 6379
    when none is given)."""
    host_port = address.split("://", 1)[-1].rstrip("/")
    host, colon, port = host_port.rpartition(":")
    if not colon or not port.isdigit():
        return host_port.strip("[]"), RAY_DEFAULT_PORT
    return host.strip("[]"), int(port)


def check_reachable(address: str) -> None:
    """Fail in one line, within seconds, when nothing answers at the Ray cluster's address."""
    host, port = cluster_endpoint(address)
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_SECONDS).close()
    except OSError as error:
        raise UserError(f"cannot reach the Ray cluster at {address} ({error.strerror or error}): "
                        "start it (`ray start --head`) or fix -P ray_address") from None


def _call(fn: Callable[[A], R], argument: A) -> R:
    """``fn(argument)``: the one Ray task, whatever callable ``fn`` is."""
    return fn(argument)


def _connect(ray: ModuleType, address: str) -> None:
    """Join the cluster at ``address`` (or start a local Ray), shipping the package; stopped
    when this process exits. A cluster that refuses us is a one-line UserError."""
    if address and address != "auto":  # "auto": the cluster `ray start` made on this machine
        check_reachable(address)
    try:
        # "local" starts a Ray for this process even when RAY_ADDRESS or an earlier `ray start`
        # names a cluster (Ray would join that one when given no address).
        ray.init(address=address or "local", include_dashboard=False, log_to_driver=False,
                 logging_level=logging.ERROR, runtime_env={"py_modules": [str(PACKAGE_DIR)]})
    except ConnectionError as error:  # not the tracking server's: said as what it is
        raise UserError(f"the Ray cluster at {address or 'local'} refused this driver "
                        f"({first_line(error)}): a cluster started with token authentication "
                        "needs the same RAY_AUTH_TOKEN here") from None
    atexit.register(ray.shutdown)


def on_ray(fn: Callable[[A], R], arguments: Sequence[A], address: str = "") -> list[R]:
    """``fn`` over ``arguments`` as Ray tasks, results in order. The first call of a process
    connects to the cluster at ``address`` (or starts a local Ray) and later calls reuse it: a
    backtest maps chunks once a fold, and a Ray start costs seconds."""
    try:
        import ray  # the optional extra: the default engine must run without Ray installed
    except ImportError:
        raise UserError(RAY_EXTRA) from None
    if not ray.is_initialized():
        _connect(ray, address)
    task = ray.remote(_call)  # a function: Ray takes no partial or callable object as a task
    return ray.get([task.remote(fn, argument) for argument in arguments])
