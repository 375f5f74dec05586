"""One tracking store with a registered cheese champion, shared by the predict, serve and
lineage tests (the pipeline runs once per test session, ~15 s).

A test module wraps ``shared_champion`` in its own fixture; the first call runs the pipeline,
later calls (from any module) get the same store.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from grocery.config import load_config
from grocery.names import ALIAS_CHAMPION, TAG_PREPARE_RUN
from grocery.prepared import DATA_DIR, VALIDATION_FILE
from tests.conftest import Store, new_store, succeeded

CHEESE = load_config().product("cheese")


@dataclass
class Champion:
    """The store, the champion's version and its prepare run's validation rows on disk."""

    store: Store
    version: mlflow.entities.model_registry.ModelVersion
    validation_path: Path

    @property
    def validation(self) -> pd.DataFrame:
        return pd.read_parquet(self.validation_path)


def pipeline_store(folder: Path) -> Store:
    """A store where the cheese pipeline ran once, its artifacts kept inside ``folder``."""
    store = new_store(folder)
    # Made here so the artifacts live beside this store rather than in the project's ./mlruns.
    store.client.create_experiment(
        CHEESE.experiment, artifact_location=(folder / "artifacts").as_uri())
    succeeded(store.mlflow_run(product=CHEESE.name))
    return store


_shared: list[Champion] = []


def shared_champion(tmp_path_factory: pytest.TempPathFactory) -> Champion:
    """The session's cheese champion, made on first use."""
    if _shared:
        return _shared[0]
    folder = tmp_path_factory.mktemp("cheese")
    store = pipeline_store(folder)
    version = store.client.get_model_version_by_alias(CHEESE.registered_model, ALIAS_CHAMPION)
    local = store.client.download_artifacts(
        version.tags[TAG_PREPARE_RUN], f"{DATA_DIR}/{VALIDATION_FILE}", str(folder))
    _shared.append(Champion(store=store, version=version, validation_path=Path(local)))
    return _shared[0]
