"""URIs fit to print or log: credentials never leave the process that was given them."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit


def public_uri(uri: str) -> str:
    """``uri`` without any user name or password."""
    parts = urlsplit(uri)
    if parts.username is None and parts.password is None:
        return uri
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def tracking_uri_for_humans() -> str:
    """The tracking URI this process uses (from the environment), credentials removed."""
    return public_uri(os.environ.get("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db"))
