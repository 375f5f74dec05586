"""The project's MLproject as `mlflow run` reads it (MLflow's own parser): an entry point, and
the command it starts, for tests and benchmarks that start a step without `mlflow run`."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from mlflow.projects.utils import load_project

from grocery.config import PROJECT_DIR

if TYPE_CHECKING:  # MLflow's class for an entry point lives in a private module
    from mlflow.projects._project_spec import EntryPoint


def entry_point(name: str) -> EntryPoint:
    """MLproject's entry point ``name``: its parameters, their defaults, its command."""
    return load_project(str(PROJECT_DIR)).get_entry_point(name)


def step_command(name: str, **params: object) -> list[str]:
    """The command `mlflow run -e <name> -P k=v ...` starts: MLproject's, its defaults and
    ``params`` filled in by MLflow's own reading of MLproject."""
    return shlex.split(entry_point(name).compute_command(
        {k: str(v) for k, v in params.items()}, None))
