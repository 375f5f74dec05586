"""The tutorial's experiment rule through `main`: a run whose data schema differs goes to a new
experiment, never into the one holding the old schema, and its parent run says where and why."""

from __future__ import annotations

import pandas as pd

from tests.conftest import new_store, succeeded
from tests.test_own_data_e2e import DEPARTMENT, EXPERIMENT, PRODUCT, own_csv

OWN = {"product": PRODUCT, "department": DEPARTMENT, "target": "units_sold",
       "date_column": "day"}


def test_a_second_run_with_an_extra_column_lands_in_a_new_experiment(tmp_path):
    store = new_store(tmp_path / "store")
    csv = own_csv(tmp_path)
    succeeded(store.mlflow_run(data=csv, **OWN))
    wider = tmp_path / "wider.csv"
    pd.read_csv(csv).assign(oven="gas").to_csv(wider, index=False)
    result = succeeded(store.mlflow_run(data=wider, **OWN))

    old = store.client.get_experiment_by_name(EXPERIMENT)
    assert "oven" not in old.tags["grocery.data_schema"]
    assert old.tags["grocery.model_family"] == "linear"
    new = [e for e in store.client.search_experiments()
           if e.name.startswith(f"{EXPERIMENT}-schema-")]
    assert len(new) == 1
    assert "oven (string, feature)" in new[0].tags["grocery.data_schema"]

    def runs(experiment, step):
        return store.client.search_runs(
            [experiment.experiment_id], filter_string=f"tags.`grocery.step` = '{step}'")

    for experiment, source in ((old, str(csv)), (new[0], str(wider))):
        (parent,) = runs(experiment, "pipeline")
        (prepare,) = runs(experiment, "prepare")
        assert prepare.data.tags["data_source"] == source
        assert parent.data.tags["grocery.experiment"] == experiment.name
    moved = runs(new[0], "pipeline")[0]
    assert moved.data.tags["grocery.experiment_reason"].startswith(
        f"{EXPERIMENT} holds other runs: this one has data schema ")
    assert new[0].name in result.stdout
