"""One tracking store with a registered cheese champion, shared by the predict, serve, lineage
and UI tests (the pipeline runs once per test session, ~25 s: `make test` gives their four
files to one worker, tests/conftest.py), and the history-plus-future tables a forecast takes.

A test module wraps ``shared_champion`` in its own fixture; the first call runs the pipeline,
later calls (from any module) get the same store.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from grocery.config import load_config
from grocery.dataset import simulate_sales
from grocery.names import ALIAS_CHAMPION, TAG_PREPARE_RUN
from grocery.prepared import DATA_DIR, META_FILE, PreparedData
from tests.conftest import Store, new_store, succeeded

CONFIG = load_config()
CHEESE = CONFIG.product("cheese")
HISTORY_DAYS = 15


@dataclass
class Champion:
    """The store, the champion's version and its prepare run's record of the data."""

    store: Store
    version: mlflow.entities.model_registry.ModelVersion
    prepared: PreparedData

    def sales(self, end_date: str = "2023-12-01", seed: int = 5) -> pd.DataFrame:
        """Cheese sales of ``HISTORY_DAYS`` + ``horizon`` days ending on ``end_date``, all known,
        at the level of the champion's data (the tail of 1000 days, as the pipeline makes)."""
        sales = simulate_sales(CONFIG.generators[CHEESE.name], 1000, end_date, seed)[0]
        return sales.tail(HISTORY_DAYS + self.prepared.horizon).reset_index(drop=True)

    def history_plus_future(self, sales: pd.DataFrame | None = None) -> pd.DataFrame:
        """``sales`` as a forecast takes them: the last ``horizon`` days keep only the date and
        the known-ahead columns."""
        table = (self.sales() if sales is None else sales).copy()
        future = table.index[-self.prepared.horizon:]
        unknown = [c for c in table.columns
                   if c not in (self.prepared.date_column, *self.prepared.known_ahead)]
        table.loc[future, unknown] = np.nan
        return table


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
        version.tags[TAG_PREPARE_RUN], f"{DATA_DIR}/{META_FILE}", str(folder))
    prepared = PreparedData.from_json(Path(local).read_text())
    _shared.append(Champion(store=store, version=version, prepared=prepared))
    return _shared[0]
