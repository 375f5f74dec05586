"""Real services on loopback for the tests, the benchmarks and `make docs`: `mlflow server`
(also with MLflow's logins, `--app-name basic-auth`), PostgreSQL, and the plumbing to start, wait
for and stop a server process."""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent
READY_SECONDS = 120


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_ready(url: str, process: subprocess.Popen, log: Path,
                     seconds: float = READY_SECONDS) -> None:
    """Until ``url`` answers 200; raise with the server's log if it dies or takes too long."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer in {seconds:.0f} s:\n{log.read_text()[-3000:]}")


def start(command: list[str], log: Path, cwd: Path, env: dict | None = None) -> subprocess.Popen:
    """Start a server in its own process group (so it can be stopped with all its workers)."""
    with log.open("a") as sink:
        return subprocess.Popen(command, cwd=cwd, env=env, stdout=sink,
                                stderr=subprocess.STDOUT, start_new_session=True)


def stop(process: subprocess.Popen, crash: bool = False) -> None:
    """Stop a server and everything it started: politely, or at once as a crash would."""
    if process.poll() is not None:
        return
    if not crash:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
            return
        except subprocess.TimeoutExpired:
            pass
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


@dataclass
class TrackingServer:
    """`mlflow server` with proxied artifacts, as the tutorial starts it; restartable on the same
    port and store. Artifacts land in ``folder/mlartifacts``, seen by runs as mlflow-artifacts:/."""

    backend_uri: str
    folder: Path
    workers: int = 2
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

    def command(self) -> list[str]:
        return [str(BIN / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(self.port),
                "--workers", str(self.workers), "--backend-store-uri", self.backend_uri,
                "--artifacts-destination", str(self.artifacts)]

    def environment(self) -> dict[str, str]:
        # No job runner: it serves MLflow's GenAI jobs, which the project has none of, and its
        # queue consumers (a Python process each) took 16 of a start's 21 CPU seconds here and
        # doubled the time to ready (11.2 s against 5.0 s).
        return {**{k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")},
                "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}

    def start(self) -> TrackingServer:
        self.process = start(self.command(), self.log, self.folder, self.environment())
        wait_until_ready(f"{self.uri}/health", self.process, self.log)
        return self

    def stop(self, crash: bool = False) -> None:
        if self.process is not None:
            stop(self.process, crash)
        self.process = None

    def requests(self) -> list[str]:
        """The API requests in the access log so far."""
        return [line for line in self.log.read_text().splitlines()
                if '"POST /api/' in line or '"GET /api/' in line or "/ajax-api/" in line]


# MLflow's own auth config (mlflow/server/auth/basic_auth.ini): users are READ on what others
# made unless granted more; the admin is created from here on the first start. A checked password
# is kept for 60 s, as docs/team-server.md sets a team's server up (otherwise every request
# hashes it again: tens of milliseconds of the server's CPU each).
AUTH_CONFIG = """[mlflow]
default_permission = READ
database_uri = sqlite:///{database}
admin_username = {admin}
admin_password = {password}
authorization_function = mlflow.server.auth:authenticate_request_basic_auth
auth_cache_ttl_seconds = 60
"""


@dataclass
class TeamServer(TrackingServer):
    """`mlflow server --app-name basic-auth`: the tracking server with MLflow's logins. Its admin
    comes from an auth config file (MLFLOW_AUTH_CONFIG_PATH) in ``folder``, beside its own
    SQLite user database; needs Flask-WTF (requirements-test.txt)."""

    admin: str = "admin"
    admin_password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    # Signs the login form's CSRF token; the same across workers and restarts.
    secret_key: str = field(default_factory=lambda: secrets.token_hex(16))

    @property
    def auth_config(self) -> Path:
        return self.folder / "basic_auth.ini"

    def command(self) -> list[str]:
        return [*super().command(), "--app-name", "basic-auth"]

    def environment(self) -> dict[str, str]:
        if not self.auth_config.exists():
            self.auth_config.touch(mode=0o600)
            self.auth_config.write_text(AUTH_CONFIG.format(
                database=self.folder / "basic_auth.db", admin=self.admin,
                password=self.admin_password))
        return {**super().environment(), "MLFLOW_AUTH_CONFIG_PATH": str(self.auth_config),
                "MLFLOW_FLASK_SERVER_SECRET_KEY": self.secret_key}


def postgres_binary(name: str) -> str:
    """A PostgreSQL program: on PATH, or where Debian's package installs it."""
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
        """SQLAlchemy's URI, naming the driver pinned in requirements.txt."""
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
        self._as_postgres(postgres_binary("psql"), "-h", "127.0.0.1", "-p", str(self.port),
                          "-U", "postgres", "-c", f"CREATE DATABASE {name}")
        return self.uri(name)

    def stop(self) -> None:
        self._as_postgres(postgres_binary("pg_ctl"), "-D", str(self.folder / "data"), "-m",
                          "immediate", "stop")


def scratch_folder(prefix: str) -> Path:
    """A folder that the `postgres` user can reach (pytest's own are private to root)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    return folder
