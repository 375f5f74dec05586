"""The whole pipeline in an isolated environment that `mlflow run` builds from python_env.yaml."""

from __future__ import annotations

from tests.conftest import SHORT, succeeded


# uv comes from requirements-setup.txt; `mlflow run --env-manager uv` finds it on PATH.
def test_the_pipeline_passes_in_a_uv_environment(store):
    result = succeeded(store.mlflow_run(env_manager="uv", product="milk", **SHORT))
    client = store.client
    experiment = client.get_experiment_by_name("Milk_Models")
    runs = client.search_runs([experiment.experiment_id])
    steps = [r for r in runs if r.data.tags.get("grocery.step") != "pipeline"]
    assert sorted(r.data.tags["mlflow.project.entryPoint"] for r in steps) == [
        "prepare", "register", "train"]
    # Every step ran in the environment mlflow built, not in the caller's interpreter.
    assert all(r.data.tags.get("mlflow.project.env") == "uv" for r in steps)
    assert all(r.info.status == "FINISHED" for r in runs)
    assert "env manager uv" in result.stdout
    champion = client.get_model_version_by_alias("grocery-forecasting-milk", "champion")
    assert str(champion.version) == "1"
