"""A shared tracking server that fails: down for a few seconds, and credentials (in the tracking
URI, in a pre-signed data link) that must never show, even when the server is lost. (The server
lost during the whole catalog is tests/test_server_lost_e2e.py, so the two run side by side.)"""

from __future__ import annotations

import shlex
import subprocess
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from grocery.config import load_config
from scripts.services import TrackingServer
from tests.conftest import Store, error_lines, succeeded
from tests.test_own_data_e2e import MODEL, OWN, PRODUCT, own_csv
from tests.test_server_e2e import server_store, start_until_prepared

CATALOG = load_config()


def test_a_server_down_for_a_few_seconds_does_not_fail_a_step(tmp_path):
    server = TrackingServer(f"sqlite:///{tmp_path / 'mlflow.db'}", tmp_path, workers=1).start()
    store = server_store(server, tmp_path)
    try:
        pipeline = start_until_prepared(store, "cheese", store.env())
        server.stop(crash=True)
        time.sleep(3)
        server.start()
        out, err = pipeline.communicate(timeout=600)
        assert pipeline.returncode == 0, f"{out}\n{err}"
    finally:
        server.stop()


SECRETS = ("s3cr3t-token", "s3cr3t-sig")


class SignedLinkHandler(SimpleHTTPRequestHandler):
    """Serves a folder as a bucket serves a pre-signed link: only with the signature."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if "X-Amz-Signature=s3cr3t-sig" not in self.path:
            self.send_error(403, "signature required")
            return
        self.path = self.path.split("?", 1)[0]
        super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def signed_link(tmp_path):
    """A loopback "bucket" serving the own-data CSV at a pre-signed-style link."""
    own_csv(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 partial(SignedLinkHandler, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield (f"http://127.0.0.1:{server.server_address[1]}/sourdough.csv"
           "?X-Amz-Credential=AKIA-test&X-Amz-Signature=s3cr3t-sig")
    server.shutdown()
    server.server_close()


def secrets_in(text: str) -> list[str]:
    """The lines of ``text`` that hold a secret."""
    return [line for line in text.splitlines() if any(secret in line for secret in SECRETS)]


def test_credentials_never_show_even_when_the_server_is_lost(sqlite_server, signed_link,
                                                             tmp_path):
    """The tracking URI with a password and a pre-signed data link: the pipeline (the link
    passed as data=env:NAME, the server stopped after prepare), then prepare with the link passed
    as it is. No printed line, tag, param or artifact holds a secret, except what MLflow itself
    records of ``-P data=<link>`` (docs/team-server.md). A rerun finishes the pipeline."""
    store = Store(uri=sqlite_server.uri.replace("http://", "http://alice:s3cr3t-token@"),
                  folder=tmp_path)
    env = store.env(MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT="true", SALES_URL=signed_link,
                    MLFLOW_HTTP_REQUEST_MAX_RETRIES="1", MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR="0")
    pipeline = subprocess.Popen(store.mlflow_run_command(**{**OWN, "data": "env:SALES_URL"}),
                                env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    printed = []
    for line in pipeline.stdout:
        printed.append(line)
        if line.startswith(f"{PRODUCT} prepare: run "):
            break
    sqlite_server.stop(crash=True)
    try:
        out, err = pipeline.communicate(timeout=600)
    finally:
        sqlite_server.start()
    assert pipeline.returncode != 0
    lost = subprocess.CompletedProcess([], 1, out, err)
    assert any(f"lost the tracking server at {sqlite_server.uri}" in x for x in error_lines(lost))
    # The steps print one line; then the `mlflow run` command itself, failing to mark its run
    # FAILED on the lost server, prints MLflow's traceback, which names the URI as given.
    ours, _, mlflow_cli = err.partition("Traceback (most recent call last):")
    assert secrets_in("".join(printed) + out + ours) == []
    assert "in _maybe_set_run_terminated" in mlflow_cli
    assert all(line.startswith("mlflow.exceptions.MlflowException: API request to http://alice:")
               for line in secrets_in(mlflow_cli))
    # Rerun to the end: train and register too.
    rerun = succeeded(subprocess.run(pipeline.args, env=env, cwd=tmp_path, capture_output=True,
                                     text=True, timeout=900))
    assert secrets_in(rerun.stdout + rerun.stderr) == []

    direct = succeeded(store.mlflow_run(entry_point="prepare", env={
        "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true"}, **{**OWN, "data": signed_link}))
    # MLflow's own log line of the command it runs shows the parameters as given.
    assert secrets_in(direct.stderr) == [x for x in direct.stderr.splitlines()
                                         if "=== Running command 'python -m steps.prepare" in x]
    assert secrets_in(direct.stdout) == []

    client = Store(uri=sqlite_server.uri, folder=tmp_path).client
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    prepares = [r for r in runs if r.data.tags.get("grocery.step") == "prepare"
                and r.data.tags.get("product") == PRODUCT]
    assert len(prepares) >= 2 and len(client.search_model_versions(f"name = '{MODEL}'")) == 1
    assert {r.data.tags["data_source"] for r in prepares} == {signed_link.split("?")[0]}
    for run in runs:
        params = {k: v for k, v in run.data.params.items()  # but MLflow's record of -P data=
                  if not (k == "data" and v == shlex.quote(signed_link))}
        logged = [*params.values(), *run.data.tags.values(),
                  *(d.dataset.source for d in run.inputs.dataset_inputs)]
        assert secrets_in(" ".join(logged)) == [], run.info.run_id
    assert [r.data.params.get("data") for r in runs if secrets_in(r.data.params.get("data", ""))
            ] == [shlex.quote(signed_link)]
    for version in client.search_model_versions():
        assert secrets_in(" ".join([*version.tags.values(), version.source or ""])) == []
    for path in sqlite_server.artifacts.rglob("*"):
        if path.is_file():
            assert secrets_in(path.read_bytes().decode("latin-1")) == [], path
