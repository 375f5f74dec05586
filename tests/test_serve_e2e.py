"""End to end: `mlflow models serve` of the cheese champion answers a history-plus-future body
like `predict` does."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from grocery.forecaster import OUTPUT_COLUMNS
from scripts.services import free_port, start, stop, wait_until_ready
from tests.champion import CHEESE, Champion, shared_champion
from tests.conftest import BIN


@dataclass
class Server:
    url: str
    champion: Champion


def post(url: str, body: bytes) -> tuple[int, dict]:
    """POST a JSON body; the status and the decoded answer, errors included."""
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    champion = shared_champion(tmp_path_factory)
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    command = [str(BIN / "mlflow"), "models", "serve", "-m",
               f"models:/{CHEESE.registered_model}@champion", "--env-manager", "local",
               "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    # Its own process group, so teardown stops the server and every worker it started.
    # As the README serves a local store's version: its bytecode stays out of the version.
    process = start(command, log, champion.store.folder,
                    champion.store.env(PYTHONDONTWRITEBYTECODE="1"))
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(f"{url}/ping", process, log)
        yield Server(url=url, champion=champion)
    finally:
        stop(process)


def test_served_champion_answers_like_predict(server, step_here, tmp_path):
    table = server.champion.history_plus_future()
    source, output = tmp_path / "history_plus_future.parquet", tmp_path / "forecast.csv"
    table.to_parquet(source, index=False)
    # predict in this process (tests/conftest.py): tests/test_predict_e2e.py runs it through
    # `mlflow run`.
    assert step_here(server.champion.store, "predict", product="cheese", input=source,
                     output=output) is None
    from_predict = pd.read_csv(output, parse_dates=["date"])

    # The same table predict read (dates travel as text, the unknown future values as null).
    body = {"dataframe_split": json.loads(table.to_json(orient="split", index=False,
                                                       date_format="iso"))}
    status, answer = post(f"{server.url}/invocations", json.dumps(body).encode())
    assert status == 200, answer
    served = pd.DataFrame(answer["predictions"])
    assert list(served.columns) == list(from_predict.columns)
    assert len(served) == server.champion.prepared.horizon == 14
    assert list(pd.to_datetime(served["date"])) == list(from_predict["date"])
    np.testing.assert_allclose(served[list(OUTPUT_COLUMNS)], from_predict[list(OUTPUT_COLUMNS)],
                               rtol=1e-9)


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


def test_a_future_day_without_its_known_ahead_value_is_a_4xx(server):
    table = server.champion.history_plus_future()
    table.loc[table.index[-11], "price_per_kg"] = np.nan
    body = {"dataframe_split": json.loads(table.to_json(orient="split", index=False,
                                                       date_format="iso"))}
    status, answer = post(f"{server.url}/invocations", json.dumps(body).encode())
    assert 400 <= status < 500
    # The forecaster's own one-line reason, under the server's generic message.
    assert "has no value for known-ahead column 'price_per_kg'" in answer.get("stack_trace", "")
