"""grocery.engines: chunks in order, joblib's processes on one machine, and a real Ray cluster of
two nodes on loopback giving the same results."""

from __future__ import annotations

import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from functools import partial

import pytest
import ray
from ray import cloudpickle

import grocery
from grocery.engines import (
    ENGINES,
    POOL_MIN_WORK,
    chunk_mapper,
    chunked,
    cluster_endpoint,
    map_chunks,
)
from grocery.errors import UserError
from grocery.names import LOCAL, RAY
from tests.conftest import PROJECT_DIR
from tests.ray_cluster import ray_cluster  # noqa: F401 (a fixture)


def work(chunk: list[int]) -> tuple[float, list[list[int]]]:
    """Deterministic work on one chunk, using the package as a real step's chunk would."""
    return math.fsum(math.sin(item) / (1 + item) for item in chunk), chunked(chunk, 2)


def work_and_process(chunk: list[int]) -> tuple[tuple[float, list[list[int]]], int]:
    """``work`` and the process that did it."""
    return work(chunk), os.getpid()


def work_and_node(chunk: list[int]) -> tuple[tuple[float, list[list[int]]], str, str]:
    """``work``, the Ray node that did it and where its worker found the package."""
    time.sleep(0.3)  # one node's one CPU stays busy, so the next task goes to the other node
    return work(chunk), ray.get_runtime_context().get_node_id(), grocery.__file__


CHUNKS = chunked(list(range(600)), 8)


def test_chunks_are_contiguous_near_equal_and_in_order():
    assert chunked(list(range(10)), 3) == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert chunked("abcdef", 2) == [["a", "b", "c"], ["d", "e", "f"]]
    assert [len(piece) for piece in CHUNKS] == [75] * 8
    assert sum(CHUNKS, []) == list(range(600))


def test_fewer_items_than_chunks_give_one_chunk_per_item():
    assert chunked([1, 2], 5) == [[1], [2]]
    assert chunked([], 4) == []
    with pytest.raises(ValueError):
        chunked([1], 0)


def test_the_local_engine_runs_chunks_in_other_processes_in_order():
    results = map_chunks(work_and_process, CHUNKS, workers=2)
    assert [result for result, _ in results] == [work(chunk) for chunk in CHUNKS]
    processes = {process for _, process in results}
    assert os.getpid() not in processes and len(processes) == 2


def test_one_chunk_or_one_worker_runs_in_this_process():
    assert map_chunks(work_and_process, CHUNKS[:1]) == [(work(CHUNKS[0]), os.getpid())]
    assert {process for _, process in map_chunks(work_and_process, CHUNKS, workers=1)} \
        == {os.getpid()}


def test_an_unknown_engine_names_the_engines():
    with pytest.raises(UserError, match="unknown engine 'spark'; valid: local, ray"):
        map_chunks(work, CHUNKS, engine="spark")
    assert ENGINES == ("local", "ray")


def test_engine_ray_without_ray_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` meets without the extra
    with pytest.raises(UserError, match=r"pip install -r requirements-ray\.txt"):
        map_chunks(work, CHUNKS, engine="ray")


def test_a_cluster_address_nobody_answers_fails_in_one_line_within_seconds():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{probe.getsockname()[1]}"
    began = time.monotonic()
    with pytest.raises(UserError, match=f"cannot reach the Ray cluster at {closed} .*ray start"):
        map_chunks(work, CHUNKS, engine="ray", address=closed)
    assert time.monotonic() - began < 10 and not ray.is_initialized()


def test_no_address_starts_one_ray_for_the_process_which_later_calls_reuse(monkeypatch):
    folder = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # Ray's socket paths must stay short
    for key, value in {"RAY_TMPDIR": folder, "RAY_USAGE_STATS_ENABLED": "0",
                       "RAY_AUTH_MODE": "disabled"}.items():  # no token left in ~/.ray
        monkeypatch.setenv(key, value)
    try:
        # A partial, as the steps pass (a function with its settings bound), is a task too.
        assert map_chunks(partial(work), CHUNKS[:3], engine="ray") == [
            work(c) for c in CHUNKS[:3]]
        node = ray.get_runtime_context().get_node_id()
        assert map_chunks(work, CHUNKS[3:], engine="ray") == [work(c) for c in CHUNKS[3:]]
        assert ray.get_runtime_context().get_node_id() == node  # the same Ray, not a new one
    finally:
        ray.shutdown()  # what the process's exit does (atexit)
        assert not processes_mentioning(folder)
        shutil.rmtree(folder, ignore_errors=True)


def processes_mentioning(text: str) -> list[str]:
    """The command lines of this machine's processes that contain ``text``."""
    lines = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [line for line in lines.splitlines() if text in line]


@pytest.mark.parametrize(("address", "endpoint"), [
    ("10.0.0.5:6380", ("10.0.0.5", 6380)), ("ray://head:10001", ("head", 10001)),
    ("head", ("head", 6379)), ("[::1]:7000", ("::1", 7000)),
])
def test_a_cluster_address_gives_its_host_and_port(address, endpoint):
    assert cluster_endpoint(address) == endpoint


def test_a_two_node_ray_cluster_gives_the_local_engine_results(
        ray_cluster, tmp_path, monkeypatch):  # noqa: F811
    print(f"the Ray cluster started in {ray_cluster.start_seconds:.1f} s")
    # Ray puts a driver's working folder on its workers' path; a node elsewhere has no checkout.
    monkeypatch.chdir(tmp_path)
    # Nor is this module on the nodes' path: its functions travel by value, the package does not.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        results = map_chunks(work_and_node, CHUNKS, engine="ray", address=ray_cluster.address)
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert [result for result, _, _ in results] == map_chunks(work, CHUNKS)
    assert len({node for _, node, _ in results}) == 2
    # The package came with the tasks (runtime_env py_modules), not from this checkout.
    assert all(not package.startswith(str(PROJECT_DIR)) for _, _, package in results)
    ray.shutdown()


def test_train_keeps_little_local_work_in_its_process_and_spreads_the_rest():
    folds = 2
    fewest = math.ceil(POOL_MIN_WORK / folds)  # the fewest series that reach the floor
    below = chunk_mapper(LOCAL, "", fewest - 1, folds)
    assert below(work_and_process, CHUNKS) == [(work(c), os.getpid()) for c in CHUNKS]
    # From the floor on, every usable CPU (map_chunks' default), as before the floor.
    at_the_floor = chunk_mapper(LOCAL, "", fewest, folds)
    assert at_the_floor.keywords == {"engine": LOCAL, "address": "", "workers": None}
    # Ray was asked for: the floor is joblib's, not the cluster's.
    assert chunk_mapper(RAY, "host:1", 1, 1).keywords == {
        "engine": RAY, "address": "host:1", "workers": None}
