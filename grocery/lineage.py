"""Where a registered model version came from, read back from the tracking store.

The chain: model version -> train run (params, metrics) -> prepare run (its datasets, its data
digest) -> the code (git repository, commit, dirty flag) -> the pipeline's parent run. Every link
is read from what the steps recorded; a link that is missing shows as ``unknown`` rather than
failing. ``read_chain`` is the one reader: the ``lineage`` step renders what it returns and
``reproduce`` rebuilds from it.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from typing import Any

from mlflow.entities import Run
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from grocery.errors import UserError
from grocery.names import (
    PREPARE,
    TAG_DATA_DIGEST,
    TAG_DATASET_CONTEXT,
    TAG_GIT_COMMIT,
    TAG_GIT_DIRTY,
    TAG_GIT_REPO,
    TAG_GIT_REPO_URL,
    TAG_PARENT_RUN,
    TAG_PREPARE_RUN,
    TAG_RUN_NAME,
    TAG_SOURCE_NAME,
    TAG_TRAIN_RUN,
    TRAIN,
)

UNKNOWN = "unknown"
FORMATS = ("text", "json")


@dataclass(frozen=True)
class RunLink:
    """One run of the chain: its recorded id (``unknown`` if none), the run if this store has
    it, and the name of its experiment."""

    run_id: str
    run: Run | None = None
    experiment: str = UNKNOWN

    @property
    def found(self) -> bool:
        return self.run is not None

    @property
    def tags(self) -> dict[str, str]:
        return self.run.data.tags if self.run is not None else {}

    @property
    def params(self) -> dict[str, str]:
        return self.run.data.params if self.run is not None else {}

    @property
    def metrics(self) -> dict[str, float]:
        return self.run.data.metrics if self.run is not None else {}


@dataclass(frozen=True)
class GitSource:
    """The code a version was trained from, as its train run recorded it."""

    repository: str = UNKNOWN
    commit: str = UNKNOWN
    dirty: str = UNKNOWN
    source: str = UNKNOWN


@dataclass(frozen=True)
class Chain:
    """Everything recorded behind one model version, each missing link ``unknown``."""

    version: ModelVersion
    train: RunLink
    prepare: RunLink
    parent: RunLink | None  # None: the train run was not nested in a pipeline
    git: GitSource = field(default_factory=GitSource)
    data_digest: str = UNKNOWN


def _link(client: MlflowClient, run_id: str | None) -> RunLink:
    if not run_id:
        return RunLink(UNKNOWN)
    try:
        run = client.get_run(run_id)
    except MlflowException:
        return RunLink(run_id)
    try:
        experiment = client.get_experiment(run.info.experiment_id).name
    except MlflowException:
        experiment = UNKNOWN
    return RunLink(run_id, run, experiment)


def _git(tags: dict[str, str]) -> GitSource:
    # Our own tag first: it is recorded by every step, with any credentials removed.
    return GitSource(
        repository=tags.get(TAG_GIT_REPO) or tags.get(TAG_GIT_REPO_URL) or UNKNOWN,
        commit=tags.get(TAG_GIT_COMMIT) or UNKNOWN,
        dirty=tags.get(TAG_GIT_DIRTY) or UNKNOWN,
        source=tags.get(TAG_SOURCE_NAME) or UNKNOWN,
    )


def read_chain(client: MlflowClient, version: ModelVersion) -> Chain:
    """The chain behind ``version``; where a run did not record a link, the version's own tag
    stands in for it."""
    train = _link(client, version.run_id or version.tags.get(TAG_TRAIN_RUN))
    prepare = _link(client, train.tags.get(TAG_PREPARE_RUN) or version.tags.get(TAG_PREPARE_RUN))
    parent_id = train.tags.get(TAG_PARENT_RUN)
    return Chain(
        version=version,
        train=train,
        prepare=prepare,
        parent=_link(client, parent_id) if parent_id else None,
        git=_git(train.tags),
        data_digest=(prepare.tags.get(TAG_DATA_DIGEST) or version.tags.get(TAG_DATA_DIGEST)
                     or UNKNOWN),
    )


def check_format(output_format: str) -> None:
    """Refuse an output format other than text or json."""
    if output_format not in FORMATS:
        raise UserError(f"unknown format {output_format!r}; valid formats: {', '.join(FORMATS)}")


# --- The chain as plain data (what ``-P format=json`` prints and ``lineage.json`` holds).

def _run_summary(link: RunLink) -> dict[str, Any]:
    if link.run is None:
        return {"run_id": link.run_id, "found": False}
    return {
        "run_id": link.run.info.run_id,
        "found": True,
        "name": link.tags.get(TAG_RUN_NAME, link.run.info.run_name) or UNKNOWN,
        "status": link.run.info.status,
        "experiment": link.experiment,
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
        context = next((t.value for t in item.tags if t.key == TAG_DATASET_CONTEXT), UNKNOWN)
        found.append({
            "name": item.dataset.name,
            "context": context,
            "digest": item.dataset.digest,
            "source": _dataset_source(item.dataset.source),
            "source_type": item.dataset.source_type,
        })
    return found


def chain_record(chain: Chain) -> dict[str, Any]:
    """The chain as plain data, one section per link."""
    version = chain.version
    return {
        "model": {
            "name": version.name,
            "version": str(version.version),
            "aliases": sorted(version.aliases or []),
            "source": version.source,
            "status": version.status,
        },
        "train_run": {
            **_run_summary(chain.train),
            "params": dict(sorted(chain.train.params.items())),
            "metrics": dict(sorted(chain.train.metrics.items())),
        },
        "prepare_run": {**_run_summary(chain.prepare), "datasets": _datasets(chain.prepare.run)},
        "git": {"repository": chain.git.repository, "commit": chain.git.commit,
                "dirty": chain.git.dirty, "source": chain.git.source},
        "parent_run": _run_summary(chain.parent) if chain.parent else None,
    }


# --- The record as text, for a person.

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


def render_text(record: dict[str, Any]) -> str:
    """The chain for a person: one section per link, top (model) to bottom (parent run)."""
    model, train, prepare = record["model"], record["train_run"], record["prepare_run"]
    aliases = " ".join(f"@{alias}" for alias in model["aliases"]) or "(no alias)"
    indent = " " * 9
    lines = [
        f"{'model':<9}{model['name']} v{model['version']} {aliases}",
        f"{indent}source {model['source']}",
        _run_line(TRAIN, train),
        *_wrapped(f"{indent}params  {_pairs(train['params'])}", indent + " " * 8),
        *_wrapped(f"{indent}metrics {_pairs(train['metrics'])}", indent + " " * 8),
        _run_line(PREPARE, prepare),
    ]
    for data in prepare["datasets"]:
        lines.append(f"{indent}dataset {data['name']} ({data['context']}) digest {data['digest']} "
                     f"source {data['source']}")
    if prepare["found"] and not prepare["datasets"]:
        lines.append(f"{indent}dataset (none recorded)")
    git = record["git"]
    lines.append(f"{'git':<9}repository {git['repository']}")
    lines.append(f"{indent}commit {git['commit']} dirty {git['dirty']}")
    parent = record["parent_run"]
    lines.append(_run_line("parent", parent) if parent else f"{'parent':<9}(none: not nested)")
    return "\n".join(lines)


def render(record: dict[str, Any], output_format: str) -> str:
    """The record as JSON or as text."""
    return json.dumps(record, indent=2) if output_format == "json" else render_text(record)
