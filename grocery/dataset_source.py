"""A dataset source for files logged as run artifacts, named by their ``runs:/`` URI.

MLflow resolves file, s3, gs... sources but not ``runs:/`` or ``mlflow-artifacts:/``, which is
where prepared data lives behind a tracking server with proxied artifacts. The ``runs:/`` URI
stays valid wherever the artifacts are stored and never carries a server's credentials.
"""

from __future__ import annotations

from typing import Any

import mlflow
from mlflow.data.dataset_source import DatasetSource


class RunArtifactDatasetSource(DatasetSource):
    """A file in a run's artifacts, e.g. ``runs:/<run id>/data/train.parquet``."""

    def __init__(self, uri: str):
        self._uri = uri

    @property
    def uri(self) -> str:
        return self._uri

    @staticmethod
    def _get_source_type() -> str:
        return "run_artifact"

    def load(self, dst_path: str | None = None) -> str:
        """Download the file; return its local path."""
        return mlflow.artifacts.download_artifacts(artifact_uri=self._uri, dst_path=dst_path)

    @staticmethod
    def _can_resolve(raw_source: Any) -> bool:
        return isinstance(raw_source, str) and raw_source.startswith("runs:/")

    @classmethod
    def _resolve(cls, raw_source: Any) -> RunArtifactDatasetSource:
        return cls(raw_source)

    def to_dict(self) -> dict[str, Any]:
        return {"uri": self._uri}

    @classmethod
    def from_dict(cls, source_dict: dict[Any, Any]) -> RunArtifactDatasetSource:
        return cls(source_dict["uri"])
