"""Reproduction: `mlflow run` from a git URI at a commit, and the `reproduce` entry point (a
clean version rebuilt and compared is the README walkthrough's last step, in
tests/test_walkthrough_e2e.py)."""

from __future__ import annotations

import socket
import subprocess
import time

import pytest

from tests.conftest import (
    SHORT,
    Store,
    copy_project,
    error_lines,
    git,
    new_store,
    repository_state,
    succeeded,
)

PRODUCT = "cheese"
MODEL = "grocery-forecasting-cheese"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def git_server(tmp_path_factory):
    """A real `git daemon` on loopback serving a bare clone of a project snapshot."""
    project = copy_project(tmp_path_factory.mktemp("served-project"))
    served = tmp_path_factory.mktemp("served")
    git(served, "clone", "--quiet", "--bare", str(project), "grocery.git")
    git(served / "grocery.git", "config", "uploadpack.allowReachableSHA1InWant", "true")
    port = free_port()
    daemon = subprocess.Popen(
        ["git", "daemon", "--reuseaddr", f"--base-path={served}", "--export-all",
         "--listen=127.0.0.1", f"--port={port}", str(served)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield project, f"git://127.0.0.1:{port}/grocery.git"
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)


def pipeline_outputs(store: Store) -> tuple[str, dict[str, float], dict[str, str]]:
    """The data digest, the train metrics and the train run's tags of the store's newest run."""
    experiment = store.client.get_experiment_by_name("Cheese_Models")
    runs = store.client.search_runs([experiment.experiment_id])
    by_step = {r.data.tags["grocery.step"]: r for r in runs}
    return (by_step["prepare"].data.tags["data_digest"], by_step["train"].data.metrics,
            by_step["train"].data.tags)


def test_a_git_uri_at_a_commit_gives_the_same_data_and_metrics(git_server, tmp_path):
    project, uri = git_server
    commit = git(project, "rev-parse", "HEAD")
    local, remote = new_store(tmp_path / "local"), new_store(tmp_path / "remote")
    succeeded(local.mlflow_run(project=project, product=PRODUCT, **SHORT))
    succeeded(remote.mlflow_run("-v", commit, project=uri, product=PRODUCT, **SHORT))

    local_digest, local_metrics, local_tags = pipeline_outputs(local)
    remote_digest, remote_metrics, remote_tags = pipeline_outputs(remote)
    assert remote_digest == local_digest
    for name in ("mae", "mse", "rmse", "r2"):
        assert remote_metrics[name] == pytest.approx(local_metrics[name], abs=1e-9)
    assert remote_tags["mlflow.source.git.commit"] == commit
    assert local_tags["mlflow.source.git.commit"] == commit
    assert remote_tags["mlflow.source.git.repoURL"] == uri
    assert remote_tags["grocery.git.dirty"] == local_tags["grocery.git.dirty"] == "false"
    assert remote_tags["grocery.code_digest"] == local_tags["grocery.code_digest"]


def test_reproduce_reports_a_version_built_from_a_dirty_tree(tmp_path):
    project = copy_project(tmp_path / "project")
    catalog = project / "catalog.yaml"
    catalog.write_text(catalog.read_text().replace("base_demand: 600", "base_demand: 650"))
    store = new_store(tmp_path / "store")
    succeeded(store.mlflow_run(project=project, product=PRODUCT, **SHORT))
    before = repository_state(project)
    assert before["status"] == "M catalog.yaml"

    result = store.mlflow_run(entry_point="reproduce", project=project, model=f"{MODEL}/1")
    assert result.returncode != 0
    table = result.stdout[result.stdout.index("what "):]
    digest_row = next(x for x in table.splitlines() if x.startswith("data digest "))
    assert digest_row.rstrip().endswith("NO")
    assert error_lines(result) == [
        f"error: {MODEL}/1 does not reproduce; the version was trained from a dirty work tree "
        f"(grocery.git.dirty=true), so commit {before['head']} lacks its edits"]
    assert repository_state(project) == before


def test_reproduce_refuses_an_unknown_version(store):
    result = store.mlflow_run(entry_point="reproduce", model=f"{MODEL}/7")
    assert result.returncode != 0
    assert error_lines(result) == [f"error: no registered model '{MODEL}' in this tracking "
                                   f"store ({store.uri}); run the pipeline first"]
