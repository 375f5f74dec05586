"""Each entry point alone, the champion rule across versions, and bad input. (Pipelines after
pipelines each registering a version, the champion the best of them: the three users of
tests/test_server_e2e.py, after the catalog run that made the first.)"""

from __future__ import annotations

import pytest

from grocery.config import load_config
from grocery.errors import UserError
from grocery.names import ALL_PRODUCTS
from tests.conftest import SHORT, Store, error_lines, new_store, succeeded

CONFIG = load_config()
MILK = CONFIG.product("milk")
VALID_NAMES = ", ".join([*CONFIG.products, *CONFIG.departments, ALL_PRODUCTS])


def run_id_of(store: Store, step: str) -> str:
    """The newest run of ``step`` in the milk experiment."""
    experiment = store.client.get_experiment_by_name(MILK.experiment)
    runs = store.client.search_runs(
        [experiment.experiment_id], filter_string=f"tags.`grocery.step` = '{step}'",
        order_by=["attributes.start_time DESC"], max_results=1)
    return runs[0].info.run_id


@pytest.fixture(scope="module")
def milk_store(tmp_path_factory) -> Store:
    store = new_store(tmp_path_factory.mktemp("milk"))
    succeeded(store.mlflow_run("--experiment-name", MILK.experiment, entry_point="prepare",
                               product="milk", **SHORT))
    return store


def test_steps_run_alone_and_champion_moves_on_improvement(milk_store):
    store = milk_store
    prepare_id = run_id_of(store, "prepare")
    data = f"runs:/{prepare_id}/data"
    exp = ("--experiment-name", MILK.experiment)

    # A deliberately weak model first: it becomes champion because there is none.
    succeeded(store.mlflow_run(*exp, entry_point="train", data=data, model="random_forest",
                               max_depth=1, n_estimators=5))
    weak = run_id_of(store, "train")
    assert store.client.get_run(weak).data.params["max_depth"] == "1"
    succeeded(store.mlflow_run(*exp, entry_point="register", train_run_id=weak))
    name = MILK.registered_model
    assert str(store.client.get_model_version_by_alias(name, "champion").version) == "1"

    # The default model is better: champion moves to version 2.
    succeeded(store.mlflow_run(*exp, entry_point="train", data=data))
    strong = run_id_of(store, "train")
    succeeded(store.mlflow_run(*exp, entry_point="register", train_run_id=strong))
    assert str(store.client.get_model_version_by_alias(name, "champion").version) == "2"
    register = store.client.get_run(run_id_of(store, "register"))
    assert register.data.tags["alias"] == "champion"
    assert register.data.metrics["champion_rmse"] > register.data.metrics["candidate_rmse"]

    # (A worse run registered after a champion is a new version but only a challenger:
    # tests/test_registry.py's register against a real store, with no process to start.)

    # The gate's scores sit on both logged models it compared, with the dataset they were
    # scored on: MLflow ranks the product's forecasters on it, the champion's model first.
    champion = store.client.get_model_version_by_alias(name, "champion")
    digest = store.client.get_run(strong).data.tags["data_digest"]
    dataset = {"dataset_name": f"{MILK.name}-backtest", "dataset_digest": digest}
    ranked = store.client.search_logged_models(
        [store.client.get_experiment_by_name(MILK.experiment).experiment_id],
        filter_string="metrics.gate_rmse > 0", datasets=[dataset],
        order_by=[{"field_name": "metrics.gate_rmse", "ascending": True, **dataset}])
    assert [m.model_uri for m in ranked][0] == champion.source
    assert {m.name for m in ranked} == {f"{MILK.name}-random_forest", f"{MILK.name}-ridge"}


# A bad input of each step, through the real `mlflow run`: one line, a failed exit, no run left
# RUNNING, nothing registered.
BAD_INPUTS = [
    ("main", {"product": "bananas"}, f"unknown product 'bananas'; valid names: {VALID_NAMES}"),
    ("prepare", {"product": "milk", "rows": -5}, "rows must be a positive number of days, got -5"),
    ("register", {"train_run_id": "0123456789abcdef0123456789abcdef"},
     "train_run_id '0123456789abcdef0123456789abcdef' does not exist in this tracking store"),
]
# More of `main`'s, refused before any run starts: run in this process (tests/conftest.py).
BAD_PIPELINE_INPUTS = [
    ({"product": "milk", "rows": 0}, "rows must be a positive number of days, got 0"),
    ({"product": "milk", "rows": 4}, "4 rows are too few for validation_fraction=0.2: "
     "need at least 2 rows in train and in validation"),
    ({"product": "milk", "validation_fraction": 1.5},
     "validation_fraction must be between 0 and 1 (exclusive), got 1.5"),
    ({"product": "milk", "model": "xgboost"},
     f"unknown model 'xgboost'; valid models: {', '.join(CONFIG.models)}"),
]


@pytest.mark.parametrize(("entry_point", "params", "message"), BAD_INPUTS)
def test_bad_input_is_one_line_and_leaves_nothing_behind(store, entry_point, params, message):
    result = store.mlflow_run(entry_point=entry_point, **params)
    assert result.returncode != 0
    assert error_lines(result) == [f"error: {message}"]
    assert "Traceback" not in result.stderr
    runs = store.client.search_runs(
        [e.experiment_id for e in store.client.search_experiments()])
    assert runs and all(r.info.status == "FAILED" for r in runs)
    assert not store.client.search_model_versions()


@pytest.mark.parametrize(("params", "message"), BAD_PIPELINE_INPUTS)
def test_bad_pipeline_input_is_refused_before_any_run(store, step_here, params, message):
    error = step_here(store, "main", **params)
    assert isinstance(error, UserError) and str(error) == message
    assert store.client.search_runs(
        [e.experiment_id for e in store.client.search_experiments()]) == []


def test_registering_a_run_that_is_not_a_train_run_is_refused(milk_store):
    store = milk_store
    prepare_id = run_id_of(store, "prepare")
    before = store.client.search_model_versions()
    result = store.mlflow_run("--experiment-name", MILK.experiment, entry_point="register",
                              train_run_id=prepare_id)
    assert result.returncode != 0
    assert error_lines(result) == [f"error: run {prepare_id} is not a train run "
                                   "(it is a prepare run)"]
    assert len(store.client.search_model_versions()) == len(before)
    register = store.client.get_run(run_id_of(store, "register"))
    assert register.info.status == "FAILED"
    assert register.data.tags["grocery.error"].startswith(f"run {prepare_id} is not a train run")
