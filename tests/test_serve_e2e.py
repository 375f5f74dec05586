"""End to end: `mlflow models serve` of the cheese champion answers like `predict` does."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.champion import CHEESE, Champion, shared_champion
from tests.conftest import BIN, succeeded

READY_SECONDS = 120


@dataclass
class Server:
    url: str
    champion: Champion


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(url: str, body: bytes) -> tuple[int, dict]:
    """POST a JSON body; the status and the decoded answer, errors included."""
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def wait_until_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"mlflow models serve exited {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    pytest.fail(f"mlflow models serve did not answer /ping in {READY_SECONDS} s:\n"
                f"{log.read_text()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    champion = shared_champion(tmp_path_factory)
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    command = [str(BIN / "mlflow"), "models", "serve", "-m",
               f"models:/{CHEESE.registered_model}@champion", "--env-manager", "local",
               "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    with log.open("w") as sink:
        # Its own process group, so teardown stops the server and every worker it started.
        process = subprocess.Popen(command, env=champion.store.env(), cwd=champion.store.folder,
                                   stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(url, process, log)
        yield Server(url=url, champion=champion)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def test_served_champion_answers_like_predict(server, tmp_path):
    rows = server.champion.validation.head(25)
    source, output = tmp_path / "rows.parquet", tmp_path / "forecast.csv"
    rows.to_parquet(source, index=False)
    succeeded(server.champion.store.mlflow_run(
        entry_point="predict", product="cheese", input=source, output=output))
    from_predict = pd.read_csv(output)["prediction"].to_numpy()

    # The same columns predict read (the model ignores none it needs; dates travel as text).
    body = {"dataframe_split": json.loads(rows.to_json(orient="split", index=False,
                                                       date_format="iso"))}
    status, answer = post(f"{server.url}/invocations", json.dumps(body).encode())
    assert status == 200, answer
    served = np.asarray(answer["predictions"], dtype=float)
    assert served.shape == (25,)
    np.testing.assert_allclose(served, from_predict, rtol=1e-9)


@pytest.mark.parametrize(("body", "says"), [
    (b"{not json", "Invalid input"),
    (json.dumps({"dataframe_split": {"columns": ["rainfall"], "data": [[1.0]]}}).encode(),
     "missing inputs"),
    (json.dumps({"rows": [[1.0]]}).encode(), "dataframe_split"),
], ids=["not-json", "missing-columns", "unknown-format"])
def test_malformed_body_is_a_4xx_with_a_message(server, body, says):
    status, answer = post(f"{server.url}/invocations", body)
    assert 400 <= status < 500
    assert says in answer.get("message", ""), answer
