"""Real services for the tests, on loopback: `mlflow server` and PostgreSQL."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(ready, what: str, timeout: float = 120) -> None:
    """Poll ``ready()`` until it is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout:.0f} s")
        time.sleep(0.3)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@dataclass
class TrackingServer:
    """A real `mlflow server` with proxied artifacts, restartable on the same port and store."""

    backend_uri: str
    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def artifacts(self) -> Path:
        return self.folder / "mlartifacts"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    def start(self) -> TrackingServer:
        command = [str(BIN / "mlflow"), "server", "--host", "127.0.0.1", "--port",
                   str(self.port), "--workers", "2", "--backend-store-uri", self.backend_uri,
                   "--artifacts-destination", str(self.artifacts)]
        with self.log.open("a") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                            cwd=self.folder, start_new_session=True)
        wait_until(lambda: answers(f"{self.uri}/health") or self.process.poll() is not None,
                   "mlflow server")
        if self.process.poll() is not None:
            raise RuntimeError(f"mlflow server exited:\n{self.log.read_text()[-3000:]}")
        return self

    def stop(self) -> None:
        """Kill the server and its workers at once, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, 9)
            self.process.wait(timeout=30)
        self.process = None

    def requests(self) -> list[str]:
        """The API requests in the access log so far."""
        return [line for line in self.log.read_text().splitlines() if '"POST /api/' in line
                or '"GET /api/' in line or '/ajax-api/' in line]


def postgres_binary(name: str) -> str:
    """A PostgreSQL server program: on PATH, or where Debian's package installs it."""
    found = shutil.which(name) or next(iter(sorted(glob.glob(
        f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        raise RuntimeError(f"{name} not found: `make test` installs PostgreSQL (Debian's "
                           "postgresql package)")
    return found


@dataclass
class Postgres:
    """A throwaway PostgreSQL cluster on loopback, owned by the `postgres` user."""

    folder: Path
    port: int = field(default_factory=free_port)

    def uri(self, database: str) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{database}"

    def _as_postgres(self, *command: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True,
                       capture_output=True, text=True)

    def start(self) -> Postgres:
        shutil.chown(self.folder, "postgres")
        data = self.folder / "data"
        self._as_postgres(postgres_binary("initdb"), "-D", str(data), "-A", "trust",
                          "-U", "postgres")
        self._as_postgres(postgres_binary("pg_ctl"), "-D", str(data), "-w", "-l",
                          str(self.folder / "postgres.log"), "-o",
                          f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                          "-c max_connections=200", "start")
        return self

    def create_database(self, name: str) -> str:
        self._as_postgres(postgres_binary("psql"),
                          "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-c",
                          f"CREATE DATABASE {name}")
        return self.uri(name)

    def stop(self) -> None:
        self._as_postgres(postgres_binary("pg_ctl"), "-D", str(self.folder / "data"), "-m",
                          "immediate", "stop")


def scratch_folder(prefix: str) -> Path:
    """A folder that the `postgres` user can reach (pytest's own are private to root)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    return folder
