"""grocery.prepared: the prepared data written and read back through a real tracking store, its
typed record, and the two dataset inputs a run records."""

from __future__ import annotations

import json

import mlflow
import pytest
from mlflow.exceptions import MlflowException

from grocery.config import load_config
from grocery.dataset import DATE, TARGET, split_synthetic_sales
from grocery.errors import UserError
from grocery.own_data import forecast_task
from grocery.prepared import (
    DATA_DIR,
    EVALUATION,
    META_FILE,
    SYNTHETIC,
    TRAINING,
    VALIDATION,
    PreparedData,
    RunArtifactDatasetSource,
    datasets,
    describe,
    load_prepared,
    log_datasets,
    log_prepared,
    lost_dataset_race,
    prepared_uri,
    row_metrics,
    source_tags,
    task_tags,
)
from grocery.prepared import forecast_task as prepared_task
from tests.conftest import new_store

CONFIG = load_config()
PRODUCT = next(iter(CONFIG.products.values()))
SCHEMA = [["date", "datetime", "date"], ["demand", "number", "target"]]


@pytest.fixture(scope="module")
def tracking(tmp_path_factory):
    """A SQLite tracking store shared by this module, set as the tracking URI."""
    folder = tmp_path_factory.mktemp("prepared")
    store = new_store(folder)
    experiment = store.client.create_experiment("prepared",
                                                artifact_location=(folder / "art").as_uri())
    mlflow.set_tracking_uri(store.uri)
    yield store, experiment
    mlflow.set_tracking_uri(None)


@pytest.fixture(scope="module")
def split():
    return split_synthetic_sales(CONFIG.generators[PRODUCT.name], 60, "2023-10-03", 1, 0.2,
                                 "time", holdout=14)


def task(split) -> dict:
    frequency, roles = forecast_task(split.sales, SYNTHETIC, TARGET, DATE, 7, 2,
                                     CONFIG.synthetic_known_ahead)
    return prepared_task("time", 7, 2, frequency, roles)


def test_the_record_describes_the_split(split):
    record = describe(PRODUCT, "run1", split, "", TARGET, DATE, SCHEMA, task(split))
    assert record.product == PRODUCT.name and record.department == PRODUCT.department
    assert set(record.digests) == {TRAINING, VALIDATION}
    assert record.digests[TRAINING] != record.digests[VALIDATION]
    assert record.noise_floor == split.noise_floor > 0
    again = describe(PRODUCT, "run2", split, "", TARGET, DATE, SCHEMA, task(split))
    assert again.data_digest == record.data_digest  # the same rows, the same digest
    assert (record.horizon, record.folds, record.frequency, record.season) == (7, 2, "daily", 7)
    assert sorted(record.known_ahead) == sorted(CONFIG.synthetic_known_ahead)
    assert sorted(record.observed) == sorted(CONFIG.synthetic_observed)
    assert record.target_lags == {"previous_days_demand": 1}
    tags = task_tags(record)
    assert tags["grocery.target_lags"] == "previous_days_demand (lag 1)"
    assert tags["grocery.known_ahead"] == ", ".join(record.known_ahead)
    assert row_metrics(split) == {"train_rows": 46, "validation_rows": 14,
                                  "noise_floor": split.noise_floor}
    assert record.source == source_tags(PRODUCT, "", TARGET, DATE)["data_source"] == SYNTHETIC
    assert source_tags(PRODUCT, "t.csv", "units", "day")["data_source"] == "t.csv"


def test_prepare_json_keeps_its_keys_and_older_records_still_load():
    record = PreparedData("milk", "dairy", "r1", "d", {TRAINING: "a", VALIDATION: "b"},
                          "t.csv", "units", "day", SCHEMA, None)
    written = json.loads(record.to_json())
    assert sorted(written) == ["data_digest", "date_column", "department", "digests", "folds",
                               "frequency", "horizon", "known_ahead", "observed",
                               "prepare_run_id", "product", "schema", "season", "series",
                               "source", "split", "step_days", "target", "target_lags"]
    assert PreparedData.from_json(record.to_json()) == record
    floor = PreparedData(**{**written, "noise_floor": 12.5})
    assert json.loads(floor.to_json())["noise_floor"] == 12.5
    # The first prepare runs wrote five keys: the rest take the synthetic defaults.
    old = PreparedData.from_json(json.dumps({
        "product": "milk", "department": "dairy", "prepare_run_id": "r0",
        "data_digest": "d", "digests": {TRAINING: "a", VALIDATION: "b"}}))
    assert (old.source, old.target, old.date_column, old.noise_floor) == (
        SYNTHETIC, TARGET, DATE, None)
    assert (old.horizon, old.folds, old.split, old.known_ahead) == (14, 5, "time", [])
    assert old.series == []  # one series, as every prepare run before series keys


def test_log_then_load_gives_equal_frames_and_an_equal_record(tracking, split):
    store, experiment = tracking
    with mlflow.start_run(experiment_id=experiment) as run:
        record = describe(PRODUCT, run.info.run_id, split, "", TARGET, DATE, SCHEMA, task(split))
        uri = log_prepared(run, split.train, split.validation, record)
        log_datasets(run.info.run_id, datasets(split.train, split.validation, record, uri))
    assert uri == prepared_uri(run.info.run_id) == f"runs:/{run.info.run_id}/{DATA_DIR}"
    train, validation, loaded = load_prepared(uri)
    assert loaded == record
    # Parquet keeps values, dtypes and order; the split's index is not part of the data.
    for logged, original in ((train, split.train), (validation, split.validation)):
        assert logged.equals(original.reset_index(drop=True))

    inputs = store.client.get_run(run.info.run_id).inputs.dataset_inputs
    by_context = {tag.value: item.dataset for item in inputs for tag in item.tags}
    assert sorted(by_context) == [EVALUATION, TRAINING, VALIDATION]
    for context in (TRAINING, VALIDATION):
        dataset = by_context[context]
        assert dataset.digest == record.digests[context]
        assert dataset.name == f"{PRODUCT.name}-{context}"
        assert dataset.source_type == "run_artifact"
        assert json.loads(dataset.source)["uri"].startswith(f"{uri}/")
    # The backtest's table is every prepared row: the data digest, the data folder.
    backtest = by_context[EVALUATION]
    assert (backtest.name, backtest.digest) == (f"{PRODUCT.name}-backtest", record.data_digest)
    assert json.loads(backtest.source)["uri"] == uri
    assert json.loads(backtest.profile)["num_rows"] == len(split.train) + len(split.validation)


def test_what_is_not_prepared_data_is_a_user_error(tracking):
    _, experiment = tracking
    with mlflow.start_run(experiment_id=experiment) as run:
        mlflow.log_text("{}", f"other/{META_FILE}")
    with pytest.raises(UserError, match=r"is not a prepare run's data folder \(missing "
                                        r"train\.parquet, validation\.parquet\)"):
        load_prepared(f"runs:/{run.info.run_id}/other")
    with pytest.raises(UserError, match="^cannot read prepared data at 'runs:/0123"):
        load_prepared("runs:/0123456789abcdef0123456789abcdef/data")


def test_the_dataset_source_round_trips():
    source = RunArtifactDatasetSource("runs:/abc/data/train.parquet")
    assert RunArtifactDatasetSource.from_dict(source.to_dict()).uri == source.uri
    assert RunArtifactDatasetSource._can_resolve("runs:/abc/data/train.parquet")
    assert not RunArtifactDatasetSource._can_resolve("s3://bucket/train.parquet")


@pytest.mark.parametrize(("message", "race"), [
    ('BAD_REQUEST: (psycopg2.errors.UniqueViolation) duplicate key value violates unique '
     'constraint "dataset_pk"\nDETAIL:  Key (experiment_id, name, digest)=(6, milk-training, '
     '993bf16c8c61f0ad) already exists.', True),  # what `mlflow server` on PostgreSQL answered
    ("(sqlite3.IntegrityError) UNIQUE constraint failed: datasets.experiment_id, datasets.name, "
     "datasets.digest", True),
    ("(pymysql.err.IntegrityError) (1062, \"Duplicate entry '6-milk-training-993b' for key "
     "'datasets.PRIMARY'\")", True),
    ('duplicate key value violates unique constraint "experiments_name_key"', False),
    ("Run 'abc' not found", False),
])
def test_only_a_dataset_logged_by_another_run_at_once_is_logged_again(message, race):
    assert lost_dataset_race(MlflowException(message)) is race
