"""grocery.model_trust against a real SQLite store: a genuine version passes and loads; models
that are not what the package writes are refused in one line before anything of them runs.

Each attack is built for real and registered beside a genuine version, with its tags: a
cloudpickle pyfunc whose ``__reduce__`` writes a marker file (as ``@champion``, with the genuine
signature), a skops file holding a type its own configuration trusts, a ``code/`` holding a
``skops`` package, a models-from-code file that is not ours, and a bytecode file beside the
genuine one. MLflow's own loader runs four of them (the controls); the package's loading path,
register's gate and ``verify`` run none.
"""

from __future__ import annotations

import contextlib
import json
import py_compile
import shutil
import sys
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import skops.io
import yaml
from mlflow.entities.model_registry import ModelVersion
from mlflow.pyfunc import PythonModel

from grocery import model_trust, registry
from grocery.config import load_config
from grocery.dataset import simulate_sales
from grocery.errors import UserError
from grocery.forecaster import fit_forecaster, forecast_table
from grocery.intervals import calibrate
from grocery.logged_forecaster import log_forecaster, no_bytecode_cache
from grocery.names import (
    ALIAS_CHAMPION,
    DIRECT,
    TAG_FORECAST_STRATEGY,
    TAG_HYPERPARAMETERS,
    TAG_STEP,
    TAG_TRAIN_RUN,
    TRAIN,
)
from grocery.prepared import SYNTHETIC, PreparedData
from grocery.registry import MODEL_PARAM
from grocery.training import forecast_spec
from steps import verify
from tests.conftest import bytecode_cache_on

CONFIG = load_config()
PRODUCT = CONFIG.product("cheese")
CHOICE = CONFIG.model("ridge")
TRUSTED = CONFIG.trusted_types(CHOICE)
PREPARED = PreparedData(
    product=PRODUCT.name, department=PRODUCT.department, prepare_run_id="p" * 32,
    data_digest="d1", digests={}, source=SYNTHETIC, horizon=14, folds=2,
    known_ahead=list(CONFIG.synthetic_known_ahead), observed=list(CONFIG.synthetic_observed),
    target_lags={"previous_days_demand": 1})
SPEC = forecast_spec(PREPARED, DIRECT)
SALES = simulate_sales(CONFIG.generators[PRODUCT.name], 200, "2023-10-03", 5)[0]


class PickledPayload(PythonModel):
    """A pyfunc saved as cloudpickle whose unpickling writes the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "ran"))

    def predict(self, context, model_input, params=None):
        return model_input


class MarkerOnLoad:
    """A type skops builds only when told to trust it; building it writes the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __setstate__(self, state: dict) -> None:
        Path(state["marker"]).write_text("ran")
        self.__dict__.update(state)


@pytest.fixture(scope="module")
def genuine(tracking_store) -> tuple[ModelVersion, Path, object]:
    """A version as the pipeline makes it (a train run's forecaster, registered with the train
    run's tag), its downloaded files, and the fitted model in memory."""
    # Any calibration will do (a backtest would cost seconds): residuals of 4 origins.
    steps = np.tile(np.arange(1, SPEC.horizon + 1), 4)
    calibration = calibrate(steps, np.random.default_rng(3).normal(0, 30, len(steps)),
                            SPEC.horizon)
    model = fit_forecaster(CHOICE, {"alpha": 1.0}, SALES, SPEC)
    with mlflow.start_run() as run:
        mlflow.log_param(MODEL_PARAM, CHOICE.name)
        mlflow.set_tags({TAG_STEP: TRAIN, TAG_HYPERPARAMETERS: json.dumps({"alpha": 1.0}),
                         TAG_FORECAST_STRATEGY: DIRECT})
    info = log_forecaster(mlflow.get_run(run.info.run_id), model, calibration, SPEC, SALES,
                          TRUSTED)
    version = mlflow.register_model(info.model_uri, PRODUCT.registered_model,
                                    tags={TAG_TRAIN_RUN: run.info.run_id})
    folder = Path(mlflow.artifacts.download_artifacts(
        registry.version_uri(version), dst_path=str(tracking_store.folder / "genuine")))
    return version, folder, (model, calibration)


def registered_folder(genuine, folder: Path) -> ModelVersion:
    """``folder`` logged under a run and registered as a version with the genuine one's tags."""
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(folder), "model")
    return tracking_client().create_model_version(
        PRODUCT.registered_model, f"{run.info.artifact_uri}/model", run.info.run_id,
        tags=genuine[0].tags)


def tracking_client() -> mlflow.MlflowClient:
    return mlflow.MlflowClient()


def tampered(genuine, tmp_path: Path) -> Path:
    """A copy of the genuine version's files, to change."""
    folder = tmp_path / "model"
    shutil.copytree(genuine[1], folder)
    (folder / "registered_model_meta").unlink(missing_ok=True)
    return folder


def edit_mlmodel(folder: Path, change) -> None:
    mlmodel = yaml.safe_load((folder / "MLmodel").read_text())
    change(mlmodel)
    (folder / "MLmodel").write_text(yaml.safe_dump(mlmodel))


def pickle_champion(genuine, marker: Path) -> ModelVersion:
    """A cloudpickle pyfunc with the genuine signature, registered and made ``@champion``."""
    signature = mlflow.models.get_model_info(registry.version_uri(genuine[0])).signature
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(name="model", python_model=PickledPayload(marker),
                                       signature=signature, pip_requirements=[])
    version = mlflow.register_model(info.model_uri, PRODUCT.registered_model,
                                    tags=genuine[0].tags)
    tracking_client().set_registered_model_alias(version.name, ALIAS_CHAMPION, version.version)
    return version


def skops_with_extra_type(genuine, tmp_path: Path, marker: Path) -> ModelVersion:
    folder = tampered(genuine, tmp_path)
    skops.io.dump(MarkerOnLoad(marker), folder / model_trust.SKOPS_FILE)
    extra = f"{MarkerOnLoad.__module__}.{MarkerOnLoad.__qualname__}"
    edit_mlmodel(folder, lambda m: m["flavors"]["python_function"]["config"][
        "trusted_types"].append(extra))
    return registered_folder(genuine, folder)


def code_with_skops_package(genuine, tmp_path: Path, marker: Path) -> ModelVersion:
    folder = tampered(genuine, tmp_path)
    package = folder / "code" / "skops"
    package.mkdir()
    (package / "__init__.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n")
    return registered_folder(genuine, folder)


def foreign_model_code(genuine, tmp_path: Path, marker: Path) -> ModelVersion:
    folder = tampered(genuine, tmp_path)
    with (folder / "forecaster_model.py").open("a") as code:
        code.write(f"\nfrom pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n")
    return registered_folder(genuine, folder)


def bytecode_beside_model_code(genuine, tmp_path: Path, marker: Path) -> ModelVersion:
    """The genuine forecaster_model.py, and a bytecode file for it that Python runs without
    reading the source (hash-based, unchecked): the genuine code, then the marker line."""
    folder = tampered(genuine, tmp_path)
    source = folder / "forecaster_model.py"
    payload = tmp_path / "payload.py"
    payload.write_text(source.read_text() + "\nfrom pathlib import Path\n"
                       f"Path({str(marker)!r}).write_text('ran')\n")
    py_compile.compile(str(payload), cfile=str(folder / "__pycache__" / (
        f"forecaster_model.{sys.implementation.cache_tag}.pyc")), doraise=True,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    return registered_folder(genuine, folder)


ATTACKS = {
    "pickle": (lambda g, tmp, marker: pickle_champion(g, marker), "pickle files"),
    "skops type": (skops_with_extra_type, "trusts skops types the catalog never reviewed: "
                                          "['tests.test_model_trust.MarkerOnLoad']"),
    "code/skops": (code_with_skops_package, "its code/ holds skops/__init__.py, outside"),
    "model code": (foreign_model_code, "its models-from-code file forecaster_model.py differs"),
    "bytecode": (bytecode_beside_model_code, "it holds Python bytecode (__pycache__/"
                                             "forecaster_model."),
}


def refused_in_one_line(version: ModelVersion, reason: str) -> str:
    """The package's loading path refuses ``version``; the message, which is one line."""
    with pytest.raises(UserError) as refused:
        registry.load_model(version)
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f"{version.name} v{version.version} is refused: ")
    assert reason in message
    return message


def test_a_genuine_version_passes_and_loads_with_the_catalogs_types(genuine):
    version, folder, (model, calibration) = genuine
    assert model_trust.refusal(folder, TRUSTED) is None
    loaded = registry.load_model(version)
    table = SALES.tail(30).reset_index(drop=True)
    table.loc[table.index[-SPEC.horizon:], ["demand", "previous_days_demand"]] = np.nan
    inputs = table[[c.name for c in registry.input_columns(version)]]
    answer = loaded.predict(inputs)
    # The same answer as MLflow's own loader gives (the signature enforced the same way) ...
    with no_bytecode_cache():  # as docs/troubleshooting.md says to load in place
        theirs = mlflow.pyfunc.load_model(registry.version_uri(version))
    pd.testing.assert_frame_equal(answer, theirs.predict(inputs))
    # ... from the fitted model in memory, read back with the catalog's types.
    np.testing.assert_allclose(answer["forecast"],
                               forecast_table(model, calibration, SPEC, inputs)["forecast"])


@pytest.mark.parametrize("attack", ATTACKS)
def test_an_attack_is_refused_before_anything_of_it_runs(genuine, tmp_path, attack):
    build, reason = ATTACKS[attack]
    marker = tmp_path / "marker"
    version = build(genuine, tmp_path, marker)
    # predict's path: the signature is read (the genuine one), then the load is refused.
    assert registry.input_columns(version) == registry.input_columns(genuine[0])
    refused_in_one_line(version, reason)
    assert not marker.exists()


@pytest.mark.parametrize("attack", ["pickle", "skops type", "model code", "bytecode"])
def test_mlflows_own_loader_runs_the_attack(genuine, tmp_path, attack):
    """The control: each attack is real, MLflow runs it on load (its code/ shadowing a library
    needs a fresh process, where skops is not imported yet)."""
    marker = tmp_path / "marker"
    version = ATTACKS[attack][0](genuine, tmp_path, marker)
    with contextlib.suppress(Exception):
        mlflow.pyfunc.load_model(registry.version_uri(version))
    assert marker.read_text() == "ran"


def test_mlflows_loader_leaves_bytecode_in_a_local_version_unless_told_not_to(genuine,
                                                                             tmp_path):
    """MLflow's own loader imports a local store's version in place: with Python's default it
    writes the model's bytecode there, which the package then refuses, as it refuses any."""
    cached = registered_folder(genuine, tampered(genuine, tmp_path / "cached"))
    kept = registered_folder(genuine, tampered(genuine, tmp_path / "kept"))
    with bytecode_cache_on():  # Python's default
        mlflow.pyfunc.load_model(registry.version_uri(cached))
    refused_in_one_line(cached, "it holds Python bytecode (__pycache__/forecaster_model.")
    with no_bytecode_cache():
        mlflow.pyfunc.load_model(registry.version_uri(kept))
    registry.load_model(kept)


def test_registers_gate_meets_a_pickle_champion_without_loading_it(genuine, tmp_path):
    marker = tmp_path / "marker"
    champion = pickle_champion(genuine, marker)
    candidate = registry.version_configuration(tracking_client(), genuine[0])
    decision, champion_met = registry.gate_version(tracking_client(), genuine[0], CONFIG,
                                                   candidate, lambda: (SALES, PREPARED))
    assert decision.champion_version == str(champion.version)  # compared by refitting
    assert champion_met.version == champion.version
    assert not marker.exists()


def test_verify_names_the_version_and_the_reason_in_one_line(genuine, tmp_path, monkeypatch,
                                                             capsys):
    marker = tmp_path / "marker"
    champion = pickle_champion(genuine, marker)
    monkeypatch.setattr(sys, "argv", ["verify", "--model",
                                      f"{PRODUCT.registered_model}@{ALIAS_CHAMPION}"])
    with pytest.raises(SystemExit) as exit_:
        verify.exit_on_user_error(verify.main)
    stderr = capsys.readouterr().err
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert exit_.value.code == 2 and len(errors) == 1 and "Traceback" not in stderr
    assert errors[0].startswith(f"error: {PRODUCT.registered_model} v{champion.version} is "
                                "refused: it holds pickle files (")
    assert not marker.exists()
    monkeypatch.setattr(sys, "argv", ["verify", "--model", str(registry.version_ref(genuine[0]))])
    verify.exit_on_user_error(verify.main)
    assert (f"PYTHONDONTWRITEBYTECODE=1 mlflow models serve -m "
            f"models:/{PRODUCT.registered_model}/{genuine[0].version}"
            in capsys.readouterr().out)


# --- The checks on files alone, each on a copy of the genuine files with one thing changed.

def _sklearn_flavor(mlmodel: dict) -> None:
    mlmodel["flavors"]["sklearn"] = {"pickled_model": "model.skops", "serialization_format":
                                     "skops"}


def _python_model_key(mlmodel: dict) -> None:
    mlmodel["flavors"]["python_function"]["python_model"] = "python_model.pkl"


def _other_loader(mlmodel: dict) -> None:
    mlmodel["flavors"]["python_function"]["loader_module"] = "mlflow.sklearn"


def _predict_fn(mlmodel: dict) -> None:
    mlmodel["flavors"]["python_function"]["predict_fn"] = "load_context"


MLMODEL_CHANGES = {
    "sklearn flavor": (_sklearn_flavor, "flavors are ['python_function', 'sklearn']"),
    "cloudpickle": (_python_model_key, "['python_model'], which a models-from-code pyfunc"),
    "loader": (_other_loader, "its loader is 'mlflow.sklearn'"),
    "predict_fn": (_predict_fn, "['predict_fn']"),
}


@pytest.mark.parametrize("change", MLMODEL_CHANGES)
def test_an_mlmodel_that_is_not_ours_is_refused(genuine, tmp_path, change):
    edit, reason = MLMODEL_CHANGES[change]
    folder = tampered(genuine, tmp_path)
    edit_mlmodel(folder, edit)
    assert reason in model_trust.refusal(folder, TRUSTED)


def test_a_pickle_under_any_name_is_refused(genuine, tmp_path):
    folder = tampered(genuine, tmp_path)
    (folder / "input_example.json").write_bytes(b"\x80\x04\x95" + b"\0" * 20)
    assert "pickle files (input_example.json)" in model_trust.refusal(folder, TRUSTED)
    (folder / "input_example.json").write_bytes(b"cos\nsystem\n(S'true'\ntR.")
    assert "pickle files (input_example.json)" in model_trust.refusal(folder, TRUSTED)


def test_other_files_code_and_requirements_are_refused(genuine, tmp_path):
    folder = tampered(genuine, tmp_path)
    (folder / "code" / "grocery" / "names.py").write_text("X = 1\n")
    assert "its code/grocery/names.py differs" in model_trust.refusal(folder, TRUSTED)
    shutil.copy(genuine[1] / "code" / "grocery" / "names.py", folder / "code" / "grocery")
    (folder / "artifacts" / "run.sh").write_text("echo\n")
    assert "files the package never writes (artifacts/run.sh)" in model_trust.refusal(
        folder, TRUSTED)
    (folder / "artifacts" / "run.sh").unlink()
    with (folder / "requirements.txt").open("a") as requirements:
        requirements.write("evil-package==1.0\n")
    assert "requirements differ" in model_trust.refusal(folder, TRUSTED)


def test_a_skops_file_holding_an_unreviewed_type_is_refused(genuine, tmp_path):
    folder = tampered(genuine, tmp_path)
    skops.io.dump(MarkerOnLoad(tmp_path / "marker"), folder / model_trust.SKOPS_FILE)
    assert model_trust.refusal(folder, TRUSTED) == (
        "its skops file holds types the catalog never reviewed: "
        "['tests.test_model_trust.MarkerOnLoad']")
    assert not (tmp_path / "marker").exists()


def test_a_type_outside_the_models_family_is_refused(genuine):
    forest = CONFIG.model("random_forest")
    assert model_trust.refusal(genuine[1], CONFIG.trusted_types(forest)) is None  # a superset
    assert "['grocery.features.CalendarLags']" in model_trust.refusal(
        genuine[1], [t for t in TRUSTED if t != "grocery.features.CalendarLags"])


def test_files_that_pass_but_do_not_build_a_forecaster_are_refused(genuine, tmp_path):
    folder = tampered(genuine, tmp_path)
    edit_mlmodel(folder, lambda m: m["flavors"]["python_function"]["config"].pop("spec"))
    with pytest.raises(UserError, match=r"^m v1 is refused: its files do not build a forecaster "
                                        r"\(KeyError\)"):
        model_trust.checked_model(folder, "m v1", TRUSTED)


def test_a_version_without_a_catalog_models_train_run_is_refused(genuine):
    untraced = mlflow.register_model(f"models:/{genuine[0].name}/{genuine[0].version}",
                                     PRODUCT.registered_model)
    refused_in_one_line(untraced, "it is not traceable to a catalog model whose reviewed skops "
                                  f"types apply (version {untraced.version} has no")
