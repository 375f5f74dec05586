"""Checking a model version's files before anything of it is imported or deserialized.

On a shared tracking server a model version is input, not trusted code: its MLmodel names the
loader MLflow runs, the skops types MLflow would build and the code it puts first on
``sys.path``. A version is loaded only when its files are what grocery/logged_forecaster.py
writes: the package's models-from-code pyfunc, no pickle anywhere, skops types within the
catalog's reviewed list for its model, code and requirements identical to this checkout's. The
skops file is then read with the catalog's list, never the one stored in the model, and the
forecaster is built here, so MLflow never runs the model's own files.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import mlflow
import skops.io
import yaml
from mlflow.entities.model_registry import ModelVersion
from mlflow.models import Model
from mlflow.pyfunc import PyFuncModel

from grocery.config import pinned_requirements
from grocery.errors import UserError
from grocery.forecaster_model import load_forecaster
from grocery.logged_forecaster import MODEL_FILE, PACKAGE_DIR
from grocery.names import ESTIMATOR_ARTIFACT

PYFUNC = "python_function"
MODEL_LOADER = "mlflow.pyfunc.loaders.code_model"  # MLflow's loader of a models-from-code file
CODE_DIR = "code"
SKOPS_FILE = f"artifacts/{ESTIMATOR_ARTIFACT}.skops"
ENVIRONMENTS = {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}
# What MLflow writes beside the model: its description, environments, input examples, and the
# note a registry download adds.
METADATA_FILES = frozenset({"MLmodel", "requirements.txt", *ENVIRONMENTS.values(),
                            "input_example.json", "serving_input_example.json",
                            "registered_model_meta"})
# The keys a models-from-code pyfunc flavor has. Any other is refused: `python_model` is a
# cloudpickle file, `data` another loader's input, `predict_fn` another method to call.
PYFUNC_KEYS = frozenset({"artifacts", "cloudpickle_version", "code", "config", "env",
                         "loader_module", "model_code_path", "python_version", "streamable"})
PICKLE_SUFFIXES = (".pkl", ".pickle", ".cloudpickle", ".joblib", ".dill")
# A pickle of protocol 2 or later starts with PROTO; protocols 0 and 1 with a GLOBAL opcode.
_PICKLE_START = re.compile(rb"\A(?:\x80[\x01-\x05]|c[\w.]+\n[\w.]+\n)")
BUILD_TOOLS = frozenset({"pip", "setuptools", "wheel"})
CONDA_TOOLS = frozenset({"python", "pip"})
HELP = "docs/troubleshooting.md says what the package trusts"


def version_label(version: ModelVersion) -> str:
    """How errors name a version: ``<name> v<version>``."""
    return f"{version.name} v{version.version}"


def model_files(folder: Path) -> list[str]:
    """Every file in a model's folder, as sorted paths relative to it."""
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*")
                  if path.is_file())


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def is_pickle(path: Path) -> bool:
    """Whether a file is a pickle by its name or by how it starts."""
    if path.name.lower().endswith(PICKLE_SUFFIXES):
        return True
    with path.open("rb") as stream:
        return _PICKLE_START.match(stream.read(256)) is not None


def pickle_refusal(folder: Path, files: Sequence[str]) -> str | None:
    """Why a model holding a pickle or cloudpickle file is refused (they run code on load)."""
    pickles = [name for name in files if is_pickle(folder / name)]
    if pickles:
        return f"it holds pickle files ({', '.join(pickles[:3])}), which run code when loaded"
    return None


def bytecode_refusal(files: Sequence[str]) -> str | None:
    """Why a model holding Python bytecode is refused: MLflow's loader would run a bytecode file
    in place of the checked source (a hash-based one without reading the source at all)."""
    compiled = [name for name in files
                if name.endswith((".pyc", ".pyo")) or "__pycache__" in name.split("/")]
    if compiled:
        return (f"it holds Python bytecode ({', '.join(compiled[:3])}), which MLflow's loader "
                "would run instead of the checked source (MLflow's own loader writes it into a "
                "local store's version it imports in place: load or serve with "
                "PYTHONDONTWRITEBYTECODE=1, and delete that __pycache__)")
    return None


def read_mlmodel(folder: Path) -> dict:
    """The model's MLmodel file as data (YAML read safely), or {} when missing or not a map."""
    return _yaml_map(folder / "MLmodel")


def flavor_refusal(mlmodel: dict) -> str | None:
    """Why an MLmodel that is not the package's single models-from-code pyfunc is refused."""
    flavors = mlmodel.get("flavors")
    if not isinstance(flavors, dict) or set(flavors) != {PYFUNC}:
        names = sorted(flavors) if isinstance(flavors, dict) else "none"
        return f"its MLmodel's flavors are {names}, not the package's one {PYFUNC} flavor"
    pyfunc = flavors[PYFUNC]
    if not isinstance(pyfunc, dict):
        return f"its MLmodel's {PYFUNC} flavor is not a mapping"
    unknown = sorted(set(pyfunc) - PYFUNC_KEYS)
    if unknown:
        return f"its {PYFUNC} flavor has {unknown}, which a models-from-code pyfunc never has"
    if pyfunc.get("loader_module") != MODEL_LOADER:
        return f"its loader is {pyfunc.get('loader_module')!r}, not {MODEL_LOADER}"
    return pyfunc_refusal(pyfunc)


def pyfunc_refusal(pyfunc: dict) -> str | None:
    """Why a models-from-code pyfunc that is not laid out as the package logs it is refused."""
    if os.path.basename(str(pyfunc.get("model_code_path"))) != MODEL_FILE.name:
        return f"its models-from-code file is {pyfunc.get('model_code_path')!r}, not ours"
    if pyfunc.get("code") != CODE_DIR or pyfunc.get("env", ENVIRONMENTS) != ENVIRONMENTS:
        return "its code or environment entries are not where the package puts them"
    artifacts = pyfunc.get("artifacts")
    if (not isinstance(artifacts, dict) or set(artifacts) != {ESTIMATOR_ARTIFACT}
            or not isinstance(artifacts[ESTIMATOR_ARTIFACT], dict)
            or artifacts[ESTIMATOR_ARTIFACT].get("path") != SKOPS_FILE):
        return f"its artifacts are not the one skops file {SKOPS_FILE}"
    config = pyfunc.get("config")
    stored = config.get("trusted_types") if isinstance(config, dict) else None
    if not isinstance(stored, list) or not all(isinstance(name, str) for name in stored):
        return "its configuration has no list of trusted types"
    return None


def code_refusal(folder: Path, files: Sequence[str]) -> str | None:
    """Why a model whose code (the models-from-code file, ``code/``) is not byte for byte this
    checkout's own modules is refused: MLflow would run it, ``code/`` first on ``sys.path``."""
    model_code = folder / MODEL_FILE.name
    if not model_code.is_file() or _digest(model_code) != _digest(MODEL_FILE):
        return (f"its models-from-code file {MODEL_FILE.name} differs from this checkout's "
                f"{PACKAGE_DIR.name}/{MODEL_FILE.name}")
    prefix = f"{CODE_DIR}/"
    for name in (name for name in files if name.startswith(prefix)):
        relative = name.removeprefix(prefix)
        ours = PACKAGE_DIR.parent / relative
        if not relative.startswith(f"{PACKAGE_DIR.name}/"):
            return (f"its {CODE_DIR}/ holds {relative}, outside the {PACKAGE_DIR.name} package "
                    "(code that would shadow an installed library)")
        if not ours.is_file() or _digest(folder / name) != _digest(ours):
            return f"its {name} differs from this checkout's {relative}"
    return None


def unexpected_refusal(files: Sequence[str]) -> str | None:
    """Why a model holding files the package never writes is refused."""
    expected = METADATA_FILES | {MODEL_FILE.name, SKOPS_FILE}
    extra = [name for name in files
             if name not in expected and not name.startswith(f"{CODE_DIR}/")]
    if extra:
        return f"it holds files the package never writes ({', '.join(extra[:3])})"
    return None


def _requirement_name(line: str) -> str:
    return re.split(r"[\s<>=!~;\[]", line.strip(), maxsplit=1)[0].lower()


def _text_lines(path: Path) -> list[str]:
    try:
        return [line.strip() for line in path.read_text().splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError):
        return []


def _yaml_map(path: Path) -> dict:
    try:
        content = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return content if isinstance(content, dict) else {}


def environment_refusal(folder: Path) -> str | None:
    """Why a model whose environments install anything but this checkout's pinned requirements
    (and the build tools) is refused: ``mlflow models serve`` would install them."""
    pinned = pinned_requirements()
    lines = _text_lines(folder / "requirements.txt")
    python_env = _yaml_map(folder / ENVIRONMENTS["virtualenv"])
    conda = _yaml_map(folder / ENVIRONMENTS["conda"])
    conda_deps = conda.get("dependencies", [])
    conda_deps = conda_deps if isinstance(conda_deps, list) else [None]
    conda_pip = [dep for dep in conda_deps if isinstance(dep, dict)]
    conda_named = {_requirement_name(dep) for dep in conda_deps if isinstance(dep, str)}
    builds = python_env.get("build_dependencies", [])
    builds = builds if isinstance(builds, list) else [None]
    if (lines != pinned or python_env.get("dependencies") != ["-r requirements.txt"]
            or not {_requirement_name(str(dep)) for dep in builds} <= BUILD_TOOLS
            or conda_pip != [{"pip": pinned}] or not conda_named <= CONDA_TOOLS):
        return "its requirements differ from this checkout's pinned requirements.txt"
    return None


def trusted_types_refusal(folder: Path, mlmodel: dict, trusted: Sequence[str]) -> str | None:
    """Why a model whose skops types (those its configuration trusts, those its skops file
    holds) are not all among the catalog's reviewed ``trusted`` types is refused."""
    stored = mlmodel["flavors"][PYFUNC]["config"]["trusted_types"]
    unreviewed = sorted(set(stored) - set(trusted))
    if unreviewed:
        return f"its configuration trusts skops types the catalog never reviewed: {unreviewed}"
    try:
        found = skops.io.get_untrusted_types(file=folder / SKOPS_FILE)
    except Exception as error:  # a damaged or forged file fails in many ways; none is trusted
        return f"its skops file cannot be read ({type(error).__name__})"
    unreviewed = sorted(set(found) - set(trusted))
    if unreviewed:
        return f"its skops file holds types the catalog never reviewed: {unreviewed}"
    return None


def refusal(folder: Path, trusted: Sequence[str]) -> str | None:
    """Why the model in ``folder`` is not what the package writes, or None; ``trusted`` is the
    catalog's reviewed skops types for its model. Reads files, imports and builds nothing."""
    files = model_files(folder)
    mlmodel = read_mlmodel(folder)
    checks = (lambda: pickle_refusal(folder, files), lambda: bytecode_refusal(files),
              lambda: flavor_refusal(mlmodel),
              lambda: code_refusal(folder, files), lambda: unexpected_refusal(files),
              lambda: environment_refusal(folder),
              lambda: trusted_types_refusal(folder, mlmodel, trusted))
    return next((reason for check in checks if (reason := check()) is not None), None)


def checked_model(folder: Path, label: str, trusted: Sequence[str]) -> PyFuncModel:
    """The model in ``folder`` built with the catalog's ``trusted`` types after ``refusal``
    found nothing, or a UserError naming ``label`` and the reason.

    The forecaster built here sits in MLflow's own ``PyFuncModel`` (its MLmodel read as YAML),
    so inputs meet the signature exactly as with ``mlflow.pyfunc.load_model``.
    """
    reason = refusal(folder, trusted)
    if reason is None:
        config = read_mlmodel(folder)["flavors"][PYFUNC]["config"]
        try:
            forecaster = load_forecaster(config, folder / SKOPS_FILE, trusted)
            meta = Model.load(str(folder))
        except Exception as error:  # checked files that still do not build are not ours
            reason = f"its files do not build a forecaster ({type(error).__name__})"
        else:
            return PyFuncModel(model_meta=meta, model_impl=forecaster, model_id=meta.model_id)
    raise UserError(f"{label} is refused: {reason}; {HELP}")


def verified_model(version: ModelVersion, trusted: Sequence[str]) -> PyFuncModel:
    """A registered version's files downloaded to a temporary folder, checked, then built with
    the catalog's ``trusted`` types; a UserError naming the version says why it is refused."""
    with tempfile.TemporaryDirectory(prefix="grocery-model-") as scratch:
        folder = Path(mlflow.artifacts.download_artifacts(
            artifact_uri=f"models:/{version.name}/{version.version}", dst_path=scratch))
        return checked_model(folder, version_label(version), trusted)

