"""End to end: `mlflow run . -e lineage` walks from a registered version back to the code."""

from __future__ import annotations

import json

import pytest

from grocery.errors import UserError
from tests.champion import CHEESE, Champion, shared_champion
from tests.conftest import error_lines, succeeded


@pytest.fixture(scope="module")
def champion(tmp_path_factory) -> Champion:
    return shared_champion(tmp_path_factory)


def expected_chain(champion: Champion) -> dict:
    """The facts lineage must report, read directly from the store."""
    client = champion.store.client
    version = champion.version
    train = client.get_run(version.run_id)
    prepare = client.get_run(train.data.tags["prepare_run_id"])
    parent = client.get_run(train.data.tags["mlflow.parentRunId"])
    return {"version": version, "train": train, "prepare": prepare, "parent": parent}


def test_lineage_text_by_alias_names_every_link(champion):
    facts = expected_chain(champion)
    train, prepare, parent = facts["train"], facts["prepare"], facts["parent"]
    result = succeeded(champion.store.mlflow_run(
        entry_point="lineage", model=f"{CHEESE.registered_model}@champion"))
    text = result.stdout
    lines = text.splitlines()
    assert lines[0].split() == ["model", CHEESE.registered_model,
                                f"v{facts['version'].version}", "@champion"]
    assert f"train    run {train.info.run_id} (cheese-train) FINISHED in Cheese_Models" in lines
    flat = " ".join(text.split())  # params and metrics wrap over lines
    # The default model's hyperparameters, as the train run logged them.
    assert f"model={train.data.params['model']}" in flat
    assert f"alpha={train.data.params['alpha']}" in flat
    assert f"rmse={train.data.metrics['rmse']:.6g}" in flat
    assert f"prepare  run {prepare.info.run_id} (cheese-prepare) FINISHED in Cheese_Models" in lines
    datasets = {t[1]: t for t in (line.split() for line in lines) if t[0] == "dataset"}
    assert sorted(datasets) == ["cheese-training", "cheese-validation"]
    for item in prepare.inputs.dataset_inputs:
        context = item.tags[0].value
        source = json.loads(item.dataset.source)["uri"]
        assert datasets[item.dataset.name] == [
            "dataset", item.dataset.name, f"({context})", "digest", item.dataset.digest,
            "source", source]
    commit = train.data.tags["mlflow.source.git.commit"]
    dirty = train.data.tags.get("grocery.git.dirty", "unknown")
    assert f"commit {commit} dirty {dirty}" in flat
    assert f"parent   run {parent.info.run_id} (cheese-pipeline) FINISHED in Cheese_Models" in lines


def test_lineage_json_by_version_matches_the_store(champion, step_here, capsys):
    """The step run in this process (tests/conftest.py): the test above is its run through
    `mlflow run`."""
    facts = expected_chain(champion)
    version, train, prepare, parent = (facts[k] for k in ("version", "train", "prepare", "parent"))
    capsys.readouterr()
    assert step_here(champion.store, "lineage",
                     model=f"{CHEESE.registered_model}/{version.version}", format="json") is None
    chain = json.loads(capsys.readouterr().out)
    assert chain["model"] == {
        "name": CHEESE.registered_model, "version": str(version.version),
        "aliases": ["champion"], "source": version.source, "status": "READY"}
    assert chain["train_run"]["run_id"] == train.info.run_id
    assert chain["train_run"]["params"] == train.data.params
    assert chain["train_run"]["metrics"] == train.data.metrics
    assert chain["prepare_run"]["run_id"] == prepare.info.run_id
    reported = chain["prepare_run"]["datasets"]
    assert sorted((d["name"], d["context"], d["digest"]) for d in reported) == sorted(
        (d.dataset.name, d.tags[0].value, d.dataset.digest) for d in prepare.inputs.dataset_inputs)
    assert chain["git"]["commit"] == train.data.tags["mlflow.source.git.commit"]
    assert chain["git"]["dirty"] in ("true", "false", "unknown")
    assert chain["git"]["dirty"] == train.data.tags.get("grocery.git.dirty", "unknown")
    assert chain["parent_run"]["run_id"] == parent.info.run_id
    assert chain["parent_run"]["name"] == "cheese-pipeline"

    # The same chain is kept on the lineage run itself.
    client = champion.store.client
    run = client.search_runs(
        [e.experiment_id for e in client.search_experiments()],
        filter_string="tags.`grocery.step` = 'lineage'",
        order_by=["attributes.start_time DESC"], max_results=1)[0]
    assert run.data.tags["model_version"] == str(version.version)
    logged = client.download_artifacts(run.info.run_id, "lineage.json",
                                       str(champion.store.folder / "lineage"))
    with open(logged) as stream:
        assert json.load(stream) == chain


def test_bad_model_reference_is_one_line(champion):
    model = f"{CHEESE.registered_model}/99"
    result = champion.store.mlflow_run(entry_point="lineage", model=model)
    assert result.returncode != 0
    assert error_lines(result) == [f"error: registered model '{CHEESE.registered_model}' has "
                                   "no version 99"]
    assert "Traceback" not in result.stderr
    assert result.stdout.strip() == ""


def test_a_reference_of_neither_form_is_refused_before_any_run(champion, step_here, capsys):
    """The step run in this process (tests/conftest.py)."""
    runs = len(champion.store.client.search_runs(["0"]))
    error = step_here(champion.store, "lineage", model="cheese")
    assert isinstance(error, UserError) and str(error) == (
        "model 'cheese' is not <name>/<version> or <name>@<alias>, "
        "e.g. grocery-forecasting-cheese@champion")
    assert capsys.readouterr().out == ""
    assert len(champion.store.client.search_runs(["0"])) == runs
