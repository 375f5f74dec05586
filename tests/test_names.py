"""grocery.names: every tag key, alias and naming rule, spelled in that one module."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml
from mlflow.utils import mlflow_tags

from grocery import names
from grocery.config import PROJECT_DIR

# Tag keys that are also MLproject parameter names (``product``, ``target``, ...) or step names
# legitimately appear elsewhere as parameters; every other name may appear only in names.py.
_ENTRY_POINTS = yaml.safe_load((PROJECT_DIR / "MLproject").read_text())["entry_points"]
_PARAMETERS = {p for spec in _ENTRY_POINTS.values() for p in spec.get("parameters", {})}
# catalog.yaml's own keys (``team``) are read by the config, not written as tags.
_CATALOG_KEYS = set(yaml.safe_load((PROJECT_DIR / "catalog.yaml").read_text())["project"])
_KEYS = {value for key, value in vars(names).items()
         if key.startswith(("TAG_", "ALIAS_")) and isinstance(value, str)}
_KEYS -= _PARAMETERS | _CATALOG_KEYS


def test_naming_rules():
    assert names.registered_model_name("milk") == "grocery-forecasting-milk"
    assert names.experiment_name_for("oat-milk") == "Oat_Milk_Models"
    assert names.experiment_name_for("whole_grain-bread") == "Whole_Grain_Bread_Models"
    assert names.run_name("milk", names.TRAIN) == "milk-train"
    assert names.step_run_tag(names.PREPARE) == "step.prepare.run_id"
    assert names.step_cached_tag(names.REGISTER) == "step.register.cached"
    assert names.pipeline_tag("cheese") == "pipeline.cheese"
    assert names.reproduce_experiment("m") == "reproduce-m"


def test_mlflows_own_tags_are_mlflows_constants():
    assert names.TAG_GIT_COMMIT == mlflow_tags.MLFLOW_GIT_COMMIT == "mlflow.source.git.commit"
    assert names.TAG_NOTE == mlflow_tags.MLFLOW_RUN_NOTE
    assert names.TAG_ENV == mlflow_tags.MLFLOW_PROJECT_ENV
    assert names.TAG_PARENT_RUN == mlflow_tags.MLFLOW_PARENT_RUN_ID


def test_tag_keys_are_distinct():
    keys = [value for key, value in vars(names).items() if key.startswith("TAG_")]
    assert len(keys) == len(set(keys))


def _literals(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef) and node.body
                  and isinstance(node.body[0], ast.Expr)}
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings}


def test_no_other_module_spells_a_tag_key_or_alias():
    sources = [*sorted((PROJECT_DIR / "grocery").glob("*.py")),
               *sorted((PROJECT_DIR / "steps").glob("*.py"))]
    spelled = {str(path.relative_to(PROJECT_DIR)): sorted(_literals(path) & _KEYS)
               for path in sources if path.name != "names.py"}
    assert {path: keys for path, keys in spelled.items() if keys} == {}
