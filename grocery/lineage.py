"""Where a registered model version came from, read back from the tracking store.

The chain: model version -> train run (params, metrics) -> prepare run (its datasets) -> the
code (git repository, commit, dirty flag) -> the pipeline's parent run. Every link is read from
what the steps recorded; a link that is missing shows as ``unknown`` rather than failing.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

from mlflow.entities import Run
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import (
    MLFLOW_GIT_COMMIT,
    MLFLOW_GIT_REPO_URL,
    MLFLOW_PARENT_RUN_ID,
    MLFLOW_RUN_NAME,
    MLFLOW_SOURCE_NAME,
)

from grocery.names import TAG_GIT_DIRTY, TAG_GIT_REPO, TAG_PREPARE_RUN, TAG_TRAIN_RUN

UNKNOWN = "unknown"
FORMATS = ("text", "json")


def _run(client: MlflowClient, run_id: str | None) -> Run | None:
    if not run_id:
        return None
    try:
        return client.get_run(run_id)
    except MlflowException:
        return None


def _experiment_name(client: MlflowClient, experiment_id: str) -> str:
    try:
        return client.get_experiment(experiment_id).name
    except MlflowException:
        return UNKNOWN


def _run_summary(client: MlflowClient, run: Run | None, run_id: str | None) -> dict[str, Any]:
    if run is None:
        return {"run_id": run_id or UNKNOWN, "found": False}
    return {
        "run_id": run.info.run_id,
        "found": True,
        "name": run.data.tags.get(MLFLOW_RUN_NAME, run.info.run_name) or UNKNOWN,
        "status": run.info.status,
        "experiment": _experiment_name(client, run.info.experiment_id),
    }


def _dataset_source(source: str) -> str:
    """The URI inside a dataset's JSON source, or the source as it is."""
    try:
        parsed = json.loads(source)
    except (TypeError, ValueError):
        return source or UNKNOWN
    if isinstance(parsed, dict):
        return str(parsed.get("uri") or parsed.get("url") or parsed.get("path") or source)
    return source


def _datasets(run: Run | None) -> list[dict[str, str]]:
    if run is None or run.inputs is None:
        return []
    found = []
    for item in run.inputs.dataset_inputs:
        context = next((t.value for t in item.tags if t.key == "mlflow.data.context"), UNKNOWN)
        found.append({
            "name": item.dataset.name,
            "context": context,
            "digest": item.dataset.digest,
            "source": _dataset_source(item.dataset.source),
            "source_type": item.dataset.source_type,
        })
    return found


def _git(run: Run | None) -> dict[str, str]:
    tags = run.data.tags if run is not None else {}
    repository = tags.get(MLFLOW_GIT_REPO_URL) or tags.get(TAG_GIT_REPO) or UNKNOWN
    return {
        "repository": repository,
        "commit": tags.get(MLFLOW_GIT_COMMIT, UNKNOWN),
        "dirty": tags.get(TAG_GIT_DIRTY, UNKNOWN),
        "source": tags.get(MLFLOW_SOURCE_NAME, UNKNOWN),
    }


def lineage(client: MlflowClient, version: ModelVersion) -> dict[str, Any]:
    """The chain behind ``version`` as plain data (what ``-P format=json`` prints)."""
    train_id = version.run_id or version.tags.get(TAG_TRAIN_RUN)
    train = _run(client, train_id)
    prepare_id = (train.data.tags.get(TAG_PREPARE_RUN) if train else None) or version.tags.get(
        TAG_PREPARE_RUN)
    prepare = _run(client, prepare_id)
    parent_id = train.data.tags.get(MLFLOW_PARENT_RUN_ID) if train else None
    parent = _run(client, parent_id)
    return {
        "model": {
            "name": version.name,
            "version": str(version.version),
            "aliases": sorted(version.aliases or []),
            "source": version.source,
            "status": version.status,
        },
        "train_run": {
            **_run_summary(client, train, train_id),
            "params": dict(sorted(train.data.params.items())) if train else {},
            "metrics": dict(sorted(train.data.metrics.items())) if train else {},
        },
        "prepare_run": {
            **_run_summary(client, prepare, prepare_id),
            "datasets": _datasets(prepare),
        },
        "git": _git(train),
        "parent_run": _run_summary(client, parent, parent_id) if parent_id else None,
    }


def _run_line(label: str, run: dict[str, Any]) -> str:
    if not run["found"]:
        return f"{label:<9}run {run['run_id']} (not found in this tracking store)"
    return (f"{label:<9}run {run['run_id']} ({run['name']}) {run['status']} "
            f"in {run['experiment']}")


def _pairs(values: dict[str, Any]) -> str:
    def show(value: Any) -> str:
        return f"{value:.6g}" if isinstance(value, float) else str(value)

    return ", ".join(f"{key}={show(value)}" for key, value in values.items()) or "-"


def _wrapped(line: str, indent: str) -> list[str]:
    return textwrap.wrap(line, width=100, subsequent_indent=indent, break_long_words=False,
                         break_on_hyphens=False)


def render_text(chain: dict[str, Any]) -> str:
    """The chain for a person: one section per link, top (model) to bottom (parent run)."""
    model, train, prepare = chain["model"], chain["train_run"], chain["prepare_run"]
    aliases = " ".join(f"@{alias}" for alias in model["aliases"]) or "(no alias)"
    indent = " " * 9
    lines = [
        f"{'model':<9}{model['name']} v{model['version']} {aliases}",
        f"{indent}source {model['source']}",
        _run_line("train", train),
        *_wrapped(f"{indent}params  {_pairs(train['params'])}", indent + " " * 8),
        *_wrapped(f"{indent}metrics {_pairs(train['metrics'])}", indent + " " * 8),
        _run_line("prepare", prepare),
    ]
    for data in prepare["datasets"]:
        lines.append(f"{indent}dataset {data['name']} ({data['context']}) digest {data['digest']} "
                     f"source {data['source']}")
    if prepare["found"] and not prepare["datasets"]:
        lines.append(f"{indent}dataset (none recorded)")
    git = chain["git"]
    lines.append(f"{'git':<9}repository {git['repository']}")
    lines.append(f"{indent}commit {git['commit']} dirty {git['dirty']}")
    parent = chain["parent_run"]
    lines.append(_run_line("parent", parent) if parent else f"{'parent':<9}(none: not nested)")
    return "\n".join(lines)


def render(chain: dict[str, Any], output_format: str) -> str:
    return json.dumps(chain, indent=2) if output_format == "json" else render_text(chain)
