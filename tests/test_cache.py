"""The step cache against a real SQLite store: what makes a key, what counts as a hit."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest
from mlflow.entities import Run, RunStatus, RunTag
from mlflow.tracking import MlflowClient

from grocery.cache import cache_key, entry_tags, find_cached
from grocery.config import PROJECT_DIR, Product, load_config
from grocery.names import (
    PREPARE,
    REGISTER,
    TAG_CACHE_KEY,
    TAG_CACHE_OUTPUT,
    TAG_DATA_DIGEST,
    TAG_MODEL_URI,
    TAG_MODEL_VERSION,
    TAG_REGISTERED_MODEL,
    TRAIN,
)
from grocery.prepared import DATA_DIR, META_FILE, TRAIN_FILE, VALIDATION_FILE
from grocery.provenance import SHARED_CODE, code_digest
from grocery.tracking import scratch_experiment

PRODUCT = next(iter(load_config().products.values()))
FINISHED = RunStatus.to_string(RunStatus.FINISHED)


def finished_run(client: MlflowClient, experiment_id: str, files: dict[str, str],
                 tags: dict[str, str], metrics: dict[str, float] | None = None) -> str:
    """A FINISHED run with ``files`` (artifact path -> text) as artifacts; its id."""
    run = client.create_run(experiment_id, tags=tags)
    folder = Path(urlparse(run.info.artifact_uri).path)
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    for name, value in (metrics or {}).items():
        client.log_metric(run.info.run_id, name, value)
    client.set_terminated(run.info.run_id, FINISHED)
    return run.info.run_id


def prepare_run(client: MlflowClient, experiment_id: str, digest: str = "d1") -> str:
    """A finished run with prepare's outputs: the data folder and its digest."""
    files = {f"{DATA_DIR}/{name}": "" for name in (TRAIN_FILE, VALIDATION_FILE, META_FILE)}
    return finished_run(client, experiment_id, files, {TAG_DATA_DIGEST: digest})


def train_run(client: MlflowClient, experiment_id: str, rmse: float = 1.5) -> str:
    """A finished run with train's outputs: a logged model folder named by its model URI."""
    run_id = finished_run(client, experiment_id, {"model/MLmodel": "flavors: {}\n"}, {},
                          {"rmse": rmse})
    client.set_tag(run_id, TAG_MODEL_URI, f"runs:/{run_id}/model")
    return run_id


def register_run(client: MlflowClient, experiment_id: str, train_run_id: str,
                 product: Product = PRODUCT, extra_tags: dict[str, str] | None = None) -> str:
    """A finished run with register's output: a version of the product's registered model."""
    name = product.registered_model
    if not client.search_registered_models(f"name = '{name}'"):
        client.create_registered_model(name)
    source = client.get_run(train_run_id).info.artifact_uri + "/model"
    version = client.create_model_version(name, source, run_id=train_run_id)
    return finished_run(client, experiment_id, {}, {
        TAG_REGISTERED_MODEL: name, TAG_MODEL_VERSION: version.version, **(extra_tags or {})})


def keyed(client: MlflowClient, step: str, run_id: str, key: str) -> Run:
    """A finished run made a cache entry as its step makes one: its key and output written (a
    step writes them with its last record, grocery/step_run.py); the run as stored then."""
    run = client.get_run(run_id)
    tags = entry_tags(step, run.data.params, run.data.tags, key)
    client.log_batch(run_id, tags=[RunTag(name, value) for name, value in tags.items()])
    return client.get_run(run_id)


@pytest.fixture(scope="module")
def client(tracking_store) -> MlflowClient:
    return tracking_store.client


@pytest.fixture(scope="module")
def experiment_id(client) -> str:
    return scratch_experiment(client, "cache")


def code_copy(folder: Path) -> Path:
    """The files a step's code digest covers, copied under ``folder``."""
    for pattern in ("steps/*.py", *SHARED_CODE):
        for source in PROJECT_DIR.glob(pattern):
            target = folder / source.relative_to(PROJECT_DIR)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    return folder


def test_the_key_changes_with_parameters_code_and_input(tmp_path):
    root = code_copy(tmp_path)
    key = cache_key(TRAIN, {"model": "ridge", "alpha": 1.0}, "input", root)
    assert key == cache_key(TRAIN, {"alpha": "1.0", "model": "ridge"}, "input", root)
    assert key != cache_key(TRAIN, {"model": "ridge", "alpha": 0.5}, "input", root)
    assert key != cache_key(TRAIN, {"model": "ridge", "alpha": 1.0}, "other input", root)
    assert key != cache_key(PREPARE, {"model": "ridge", "alpha": 1.0}, "input", root)
    with (root / "steps" / f"{TRAIN}.py").open("a") as script:
        script.write("\n# an edit\n")
    code_digest.cache_clear()  # the digest is taken once per process; here the code changed
    assert key != cache_key(TRAIN, {"model": "ridge", "alpha": 1.0}, "input", root)


def test_an_entry_is_the_key_and_the_output(client, experiment_id):
    prepare = keyed(client, PREPARE, prepare_run(client, experiment_id, "digest-1"), "k-p")
    assert prepare.data.tags[TAG_CACHE_KEY] == "k-p"
    # prepare's output: its data and the forecast task set on it.
    output = prepare.data.tags[TAG_CACHE_OUTPUT]
    assert output == entry_tags(PREPARE, {}, {TAG_DATA_DIGEST: "digest-1"}, "k-p")[
        TAG_CACHE_OUTPUT]
    same = keyed(client, PREPARE, prepare_run(client, experiment_id, "digest-1"), "k-p")
    assert same.data.tags[TAG_CACHE_OUTPUT] == output
    other_task = prepare_run(client, experiment_id, "digest-1")
    client.log_param(other_task, "known_ahead", "price")
    other = keyed(client, PREPARE, other_task, "k-p")
    assert other.data.tags[TAG_CACHE_OUTPUT] != output  # the same rows, another task
    train = keyed(client, TRAIN, train_run(client, experiment_id), "k-t")
    assert train.data.tags[TAG_CACHE_OUTPUT] == "k-t"  # train's output: its own key
    register = keyed(client, REGISTER,
                     register_run(client, experiment_id, train.info.run_id), "k-r")
    tags = register.data.tags
    assert tags[TAG_CACHE_OUTPUT] == f"{tags[TAG_REGISTERED_MODEL]}/{tags[TAG_MODEL_VERSION]}"


def test_find_cached_takes_the_newest_finished_run_whose_outputs_exist(client, experiment_id):
    older = keyed(client, PREPARE, prepare_run(client, experiment_id), "same").info.run_id
    newer = keyed(client, PREPARE, prepare_run(client, experiment_id), "same").info.run_id
    running = client.create_run(experiment_id, tags={TAG_CACHE_KEY: "same"}).info.run_id
    assert find_cached(client, experiment_id, PREPARE, "same").info.run_id == newer
    assert running != newer
    assert find_cached(client, experiment_id, PREPARE, "another key") is None

    # The newest run's data is gone: the older one is the hit, then none at all.
    for run_id in (newer, older):
        folder = Path(urlparse(client.get_run(run_id).info.artifact_uri).path)
        shutil.rmtree(folder / DATA_DIR)
    assert find_cached(client, experiment_id, PREPARE, "same") is None


def test_find_cached_checks_trains_model_and_registers_version(client, experiment_id):
    train = keyed(client, TRAIN, train_run(client, experiment_id), "t").info.run_id
    register = keyed(client, REGISTER, register_run(client, experiment_id, train), "r")
    assert find_cached(client, experiment_id, TRAIN, "t").info.run_id == train
    assert find_cached(client, experiment_id, REGISTER, "r").info.run_id == register.info.run_id

    client.delete_model_version(PRODUCT.registered_model,
                                register.data.tags[TAG_MODEL_VERSION])
    assert find_cached(client, experiment_id, REGISTER, "r") is None
    shutil.rmtree(Path(urlparse(client.get_run(train).info.artifact_uri).path) / "model")
    assert find_cached(client, experiment_id, TRAIN, "t") is None
