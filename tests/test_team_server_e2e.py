"""A team server with logins (`mlflow server --app-name basic-auth`, docs/team-server.md): one
user runs a product's pipeline; a teammate with the default READ reads its runs and version, and
is refused in one line, with nothing half-written, when logging to the product's experiment or
registering a version (the step that moves @champion)."""

from __future__ import annotations

import pytest
from mlflow.entities import ViewType
from mlflow.server import get_app_client

from grocery.config import load_config
from grocery.names import ALIAS_CHAMPION, REGISTER, TAG_STEP, TRAIN
from scripts.services import TeamServer
from tests.conftest import SHORT, Store, error_lines, succeeded

MILK = load_config().product("milk")
USERS = {"alice": "alice-pass-1234", "bob": "bob-pass-12345"}
DEFAULT_EXPERIMENT = "0"  # where `mlflow run` makes its own run before the pipeline starts


def login(user: str) -> dict[str, str]:
    """The environment that logs ``user`` in: credentials never go in the tracking URI."""
    return {"MLFLOW_TRACKING_USERNAME": user, "MLFLOW_TRACKING_PASSWORD": USERS[user]}


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    """A basic-auth server with two users, each allowed to start runs in Default only."""
    folder = tmp_path_factory.mktemp("team-server")
    server = TeamServer(f"sqlite:///{folder / 'mlflow.db'}", folder, workers=1).start()
    try:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("MLFLOW_TRACKING_USERNAME", server.admin)
            env.setenv("MLFLOW_TRACKING_PASSWORD", server.admin_password)
            admin = get_app_client("basic-auth", tracking_uri=server.uri)
            for user, password in USERS.items():
                admin.create_user(user, password)
                admin.grant_user_permission(user, "experiment", DEFAULT_EXPERIMENT, "EDIT")
        yield server
    finally:
        server.stop()


def everything(store: Store) -> tuple[dict, list, str]:
    """Every run's status by id, every version of the product's model, and its champion."""
    client = store.client
    experiments = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
    runs = {r.info.run_id: r.info.status for r in client.search_runs(experiments)}
    versions = sorted(v.version for v in client.search_model_versions(
        f"name = '{MILK.registered_model}'"))
    champion = client.get_model_version_by_alias(MILK.registered_model, ALIAS_CHAMPION).version
    return runs, versions, champion


def test_a_reader_reads_the_pipeline_and_is_refused_cleanly_when_writing(team, tmp_path,
                                                                           monkeypatch):
    store = Store(uri=team.uri, folder=tmp_path)
    succeeded(store.mlflow_run(product=MILK.name, env=login("alice"), **SHORT))

    for name, value in login("bob").items():
        monkeypatch.setenv(name, value)
    client = store.client
    experiment = client.get_experiment_by_name(MILK.experiment)
    train = client.search_runs([experiment.experiment_id],
                               filter_string=f"tags.`{TAG_STEP}` = '{TRAIN}'")[0]
    runs, versions, champion = everything(store)
    assert versions == ["1"] and champion == "1"
    assert client.get_model_version(MILK.registered_model, "1").run_id == train.info.run_id

    attempts = [({"product": MILK.name}, "create a run (runs/create"),
                ({"entry_point": REGISTER, "train_run_id": train.info.run_id},
                 "register a model version (model-versions/create")]
    for options, refused in attempts:
        result = store.mlflow_run(env=login("bob"), **options)
        assert result.returncode != 0
        assert "Traceback" not in result.stderr, result.stderr
        [line] = error_lines(result)
        assert f"refused to let bob {refused}: permission denied)" in line
        assert USERS["bob"] not in result.stdout + result.stderr

    after, versions_after, champion_after = everything(store)
    assert (versions_after, champion_after) == (versions, champion)
    new = {run_id: status for run_id, status in after.items() if run_id not in runs}
    assert len(new) == 2 and set(new.values()) == {"FAILED"}  # bob's own runs, in Default
    assert {r.info.experiment_id for r in client.search_runs([DEFAULT_EXPERIMENT])
            if r.info.run_id in new} == {DEFAULT_EXPERIMENT}
    assert "RUNNING" not in after.values()
