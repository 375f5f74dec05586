"""Shared fixtures: a temporary tracking store and a runner for the real `mlflow run`."""

from __future__ import annotations

import functools
import importlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

# No test reaches past loopback: MLflow's usage telemetry (a fetch from the internet in every
# process that imports mlflow) stays off here and in every process the tests start.
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"

import mlflow  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402
from xdist.scheduler import LoadFileScheduling  # noqa: E402

from tests.mlproject import PROJECT_DIR, step_command  # noqa: E402
from tests.ray_cluster import SHARED as SHARED_RAY_CLUSTER  # noqa: E402

BIN = Path(sys.executable).parent


@dataclass
class Store:
    """A temporary SQLite tracking store and the client that reads it."""

    uri: str
    folder: Path

    @property
    def client(self) -> MlflowClient:
        return MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
        env.update(MLFLOW_TRACKING_URI=self.uri, PATH=f"{BIN}{os.pathsep}{env['PATH']}",
                   MLFLOW_DISABLE_TELEMETRY="true")
        env.update(extra)
        return env

    def mlflow_run_command(
        self, *args: str, entry_point: str = "main", project: str | Path = PROJECT_DIR,
        env_manager: str = "local", **params: object,
    ) -> list[str]:
        """`mlflow run <project> -e <entry point> --env-manager local ... -P k=v ...`."""
        command = [str(BIN / "mlflow"), "run", str(project), "-e", entry_point,
                   "--env-manager", env_manager, *args]
        for key, value in params.items():
            command += ["-P", f"{key}={value}"]
        return command

    def mlflow_run(self, *args: str, cwd: Path | None = None, env: dict | None = None,
                   **options: object) -> subprocess.CompletedProcess:
        """Run ``mlflow_run_command(*args, **options)`` against this store, captured."""
        return subprocess.run(self.mlflow_run_command(*args, **options),
                              env=self.env(**(env or {})),
                              cwd=cwd or self.folder, capture_output=True, text=True,
                              timeout=900)


@pytest.fixture
def step_here(monkeypatch):
    """Runs an entry point's step in this process, started as `mlflow run` starts it in a new one
    (its command line, the store in MLflow's environment), and returns what it raised (None if
    it ended well). For what a step makes of its input, where a new process only adds seconds of
    start-up: each step also runs through the real `mlflow run`, for the one line, the exit
    status and the launcher run. The environment is restored afterwards, and MLflow's tracking
    and registry URIs are left unset, as a new process has them, before and after."""
    saved = dict(os.environ)

    def run(store: Store, entry_point: str, **params: object) -> BaseException | None:
        command = step_command(entry_point, **params)
        assert command[:2] == ["python", "-m"], command  # the steps run as modules
        mlflow.set_tracking_uri(None)  # whatever an earlier test of this process set
        mlflow.set_registry_uri(None)
        for name in [name for name in os.environ if name.startswith("MLFLOW_")]:
            del os.environ[name]
        os.environ.update(MLFLOW_TRACKING_URI=store.uri, MLFLOW_DISABLE_TELEMETRY="true")
        monkeypatch.setattr(sys, "argv", [command[2], *command[3:]])
        monkeypatch.setattr(sys, "path", list(sys.path))  # a loaded model adds its code
        try:
            importlib.import_module(command[2]).main()
        except Exception as error:  # noqa: BLE001 (the caller checks what it is)
            return error
        return None

    yield run
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)
    os.environ.clear()
    os.environ.update(saved)


# A short history and two backtest origins, for end-to-end tests whose claim does not depend on
# how long the history is or how many origins the backtest has: their pipelines run quicker.
SHORT = {"rows": 300, "folds": 2}


@contextmanager
def bytecode_cache_on() -> Iterator[None]:
    """Python's default meanwhile, whatever this environment says: imports cache their bytecode
    beside the source (the opposite of grocery.logged_forecaster.no_bytecode_cache)."""
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, False
    try:
        yield
    finally:
        sys.dont_write_bytecode = saved


@functools.cache
def migrated_database() -> bytes:
    """An empty tracking database as MLflow creates it (its schema migrated, its Default
    experiment made), made once per test process."""
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "mlflow.db"
        MlflowClient(tracking_uri=f"sqlite:///{database}").search_experiments()
        return database.read_bytes()


def new_store(folder: Path) -> Store:
    """A new SQLite store in ``folder``, as the first process to open ``mlflow.db`` there leaves
    it, its Default experiment's artifacts in ``folder/mlruns/0`` as for a process started there.
    Copied from ``migrated_database``: each migration costs its process about a second of CPU,
    and the suite makes dozens of stores."""
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "mlflow.db"
    database.write_bytes(migrated_database())
    with closing(sqlite3.connect(database)) as connection, connection:
        connection.execute("UPDATE experiments SET artifact_location = ? WHERE experiment_id = 0",
                           (str(folder / "mlruns" / "0"),))
    return Store(uri=f"sqlite:///{database}", folder=folder)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A fresh, empty tracking store for one test."""
    return new_store(tmp_path / "store")


def succeeded(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    """``result`` if it exited 0; else fail the test with its output."""
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    """The one-line errors a step printed."""
    return [line for line in result.stderr.splitlines() if line.startswith("error: ")]


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo``; return its stdout."""
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True)
    return done.stdout.strip()


def repository_state(repo: Path) -> dict[str, str]:
    """What the user would notice changing: HEAD, branches, remotes, shallowness, edits."""
    return {
        "head": git(repo, "rev-parse", "HEAD"),
        "branches": git(repo, "branch", "--list", "--format=%(refname) %(objectname)"),
        "remotes": git(repo, "remote", "-v"),
        "shallow": git(repo, "rev-parse", "--is-shallow-repository"),
        "status": git(repo, "status", "--porcelain"),
    }


def copy_project(destination: Path) -> Path:
    """A new git repository holding the project's files as they are now, in one commit."""
    files = git(PROJECT_DIR, "ls-files", "--cached", "--others", "--exclude-standard").splitlines()
    for name in files:
        source = PROJECT_DIR / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    git(destination, "init", "-q", "-b", "main")
    git(destination, "add", "-A")
    git(destination, "-c", "user.name=Test", "-c", "user.email=test@example.invalid",
        "commit", "-q", "-m", "project snapshot")
    return destination


@pytest.fixture(scope="session")
def sqlite_server(tmp_path_factory):
    """One real `mlflow server` (SQLite, proxied artifacts) for the whole session; one worker
    process (a second costs 2 s of CPU at each start), as for every server whose test is not
    about requests at once."""
    from scripts.services import TrackingServer

    folder = tmp_path_factory.mktemp("sqlite-server")
    server = TrackingServer(f"sqlite:///{folder / 'mlflow.db'}", folder, workers=1).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL cluster on loopback for the whole session."""
    from scripts.services import Postgres, scratch_folder

    database = Postgres(scratch_folder("grocery-postgres-")).start()
    yield database
    database.stop()
    shutil.rmtree(database.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server(postgres, tmp_path_factory):
    """One real `mlflow server` on PostgreSQL (proxied artifacts) for the whole session."""
    from scripts.services import TrackingServer

    server = TrackingServer(postgres.create_database("mlflow"),
                            tmp_path_factory.mktemp("postgres-server")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tracking_store(tmp_path_factory):
    """A fresh SQLite store shared by one test module, MLflow's tracking URI meanwhile."""
    import mlflow

    store = new_store(tmp_path_factory.mktemp("tracking"))
    mlflow.set_tracking_uri(store.uri)
    yield store
    mlflow.set_tracking_uri(None)


# The longest files first, by their times in a full `make test` on this machine (a file's own
# fixtures included): `make test`'s two workers each take one file at a time (xdist's reordering
# by test count turned off), so the long ones start early and the quick files fill in behind
# them, the last to finish a few seconds apart. The in-process files that take tens of seconds
# (test_registry.py, test_engines.py) go among the end-to-end files, not last.
SLOW_FILES = ("test_series_e2e.py", "test_walkthrough_e2e.py", "test_server_e2e.py",
              "test_entry_points_e2e.py", "test_predict_e2e.py", "test_lineage_e2e.py",
              "test_serve_e2e.py", "test_own_data_e2e.py", "test_server_lost_e2e.py",
              "test_cache_e2e.py", "test_server_faults_e2e.py", "test_reproduce_e2e.py",
              "test_pipeline_e2e.py", "test_registry.py", "test_team_server_e2e.py",
              "test_experiment_rule_e2e.py", "test_forecast_e2e.py", "test_engines.py",
              "test_env_managers_e2e.py", "test_ui_e2e.py")
# Files that share a costly session resource go to one worker together, which makes it once:
# the session's cheese champion (tests/champion.py), and the two-node Ray cluster
# (tests/ray_cluster.py). As files, each worker that took one of them made its own.
SHARED_UNITS = {"test_predict_e2e.py": "champion", "test_lineage_e2e.py": "champion",
                "test_serve_e2e.py": "champion", "test_ui_e2e.py": "champion",
                "test_series_e2e.py": "ray", "test_engines.py": "ray"}
RAY_CLUSTER = "ray_cluster"  # the fixture
RAY_UNIT_RANK = min(SLOW_FILES.index(name) for name, unit in SHARED_UNITS.items() if unit == "ray")


def uses_ray_cluster(item: pytest.Item | None) -> bool:
    """Whether ``item`` is a test that asks for the two-node Ray cluster."""
    return item is not None and RAY_CLUSTER in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the files slowest first (a stable sort: each file keeps its own order), and the
    tests that use the Ray cluster one after another, first in their unit."""
    def rank(item: pytest.Item) -> tuple[int, int]:
        name = item.path.name
        if uses_ray_cluster(item):
            return RAY_UNIT_RANK, 0
        if name in SLOW_FILES:
            return SLOW_FILES.index(name), 1
        return len(SLOW_FILES) + (0 if name.endswith("_e2e.py") else 1), 1

    items.sort(key=rank)


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stop the Ray cluster after the last test in a row that uses it."""
    if uses_ray_cluster(item) and not uses_ray_cluster(nextitem):
        SHARED_RAY_CLUSTER.stop()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop the Ray cluster if a stopped session left it running (its nodes outlive us)."""
    SHARED_RAY_CLUSTER.stop()


class FileScheduling(LoadFileScheduling):
    """xdist's ``--dist loadfile``, but with the files of each shared unit as one unit of work."""

    def _split_scope(self, nodeid: str) -> str:
        path = super()._split_scope(nodeid)
        return SHARED_UNITS.get(Path(path).name, path)


def pytest_xdist_make_scheduler(config: pytest.Config, log) -> LoadFileScheduling | None:
    """``FileScheduling`` for ``--dist loadfile``; xdist's own scheduler otherwise."""
    if config.getvalue("dist") != "loadfile":
        return None
    return FileScheduling(config, log)
