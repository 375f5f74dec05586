"""A real Ray cluster of two nodes on loopback, shared by the tests of ``engine=ray`` that use
it: `ray start --head` and a second node joining it, one CPU each.

Import the fixture into a test module (``from tests.ray_cluster import ray_cluster``) and use
``ray_cluster.address`` as ``-P ray_address`` or ``map_chunks(..., address=...)``.

Ray replaces 127.0.0.1 given as a node's address with the machine's network address, so the
nodes take two other loopback addresses, which Ray keeps. Both nodes run `ray start --block` in
their own process groups, killed at the end: `ray stop` would stop every Ray on the machine.
The nodes and this process agree to run without Ray's token authentication (a loopback cluster
that lives for one session): `ray start` would turn it on by itself wherever an earlier local
``ray.init()`` left a token in ~/.ray/auth_token, and a driver given an address would not.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import ray

HEAD_IP, SECOND_IP = "127.0.0.2", "127.0.0.3"
RAY = Path(sys.executable).parent / "ray"  # the venv's, beside this Python
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
START_TIMEOUT_SECONDS = 120


@dataclass
class RayCluster:
    """A running cluster: its address (``host:port``) and the seconds it took to start."""

    address: str
    start_seconds: float


def free_port(host: str) -> int:
    """A TCP port nobody listens on at ``host`` right now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def start_node(folder: Path, name: str, *options: str) -> subprocess.Popen:
    """`ray start ... --block` with one CPU, in a new process group, its output in
    ``folder/<name>.log``."""
    env = {key: value for key, value in os.environ.items() if key != "RAY_ADDRESS"}
    command = [str(RAY), "start", *options, "--num-cpus", "1",
               "--disable-usage-stats", "--temp-dir", str(folder / name), "--block"]
    with open(folder / f"{name}.log", "w") as log:
        return subprocess.Popen(command, env=env, cwd=folder, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)


def wait_until(ready, what: str, nodes: list[subprocess.Popen], folder: Path) -> None:
    """Poll ``ready()`` until true; fail with the nodes' logs if a node exits or time runs out."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not ready():
        if any(node.poll() is not None for node in nodes) or time.monotonic() > deadline:
            logs = "\n".join(path.read_text()[-3000:] for path in sorted(folder.glob("*.log")))
            pytest.fail(f"the Ray cluster did not get {what}:\n{logs}")
        time.sleep(0.1)


def answers(host: str, port: int) -> bool:
    """Whether something accepts a TCP connection at ``host:port``."""
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


def wait_for_nodes(address: str, count: int, nodes: list[subprocess.Popen],
                   folder: Path) -> None:
    """Wait until the cluster at ``address`` counts ``count`` nodes alive, asked as a driver."""
    ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
    try:
        wait_until(lambda: sum(node["Alive"] for node in ray.nodes()) == count,
                   f"{count} nodes", nodes, folder)
    finally:
        ray.shutdown()


def stop(nodes: list[subprocess.Popen]) -> None:
    """Kill each node's process group (its raylet, its workers) and reap it."""
    for node in nodes:
        try:
            os.killpg(node.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for node in nodes:
        node.wait(timeout=30)


@contextmanager
def two_nodes() -> Iterator[RayCluster]:
    """Two Ray nodes of one CPU each on loopback, stopped (and the environment restored) on
    the way out: the tests' fixture and the many-series benchmark start it so."""
    # Short: Ray's socket paths under the temp folder must stay under 108 characters.
    folder = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))
    settings, nodes = pytest.MonkeyPatch(), []
    began, port = time.monotonic(), free_port(HEAD_IP)
    address = f"{HEAD_IP}:{port}"
    try:
        for key, value in RAY_ENV.items():
            settings.setenv(key, value)
        nodes.append(start_node(folder, "head", "--head", "--node-ip-address", HEAD_IP,
                                "--port", str(port), "--include-dashboard=false"))
        wait_until(lambda: answers(HEAD_IP, port), "its head node up", nodes, folder)
        nodes.append(start_node(folder, "second", "--address", address,
                                "--node-ip-address", SECOND_IP))
        wait_for_nodes(address, 2, nodes, folder)
        yield RayCluster(address=address, start_seconds=time.monotonic() - began)
    finally:
        stop(nodes)
        settings.undo()
        shutil.rmtree(folder, ignore_errors=True)


class SharedCluster:
    """The two nodes, started for the first test that asks and stopped (``stop``) after the
    last of the tests in a row that ask: tests/conftest.py runs them one after another. Idle,
    the nodes still take CPU, which the rest of a session on two busy cores would pay."""

    def __init__(self) -> None:
        self._running = ExitStack()
        self.cluster: RayCluster | None = None

    def get(self) -> RayCluster:
        if self.cluster is None:
            self.cluster = self._running.enter_context(two_nodes())
        return self.cluster

    def stop(self) -> None:
        self._running.close()
        self.cluster = None


SHARED = SharedCluster()


@pytest.fixture
def ray_cluster() -> RayCluster:
    """Two Ray nodes on loopback, one CPU each, shared by the tests that use them in a row: one
    start for all of them."""
    return SHARED.get()
