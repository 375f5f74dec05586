"""URIs and texts fit to print or log: credentials never leave the process that was given them."""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit, urlunsplit

# Query parameters that carry a secret: pre-signed links (S3, GCS, Azure SAS), OAuth and API
# tokens. Matched case-insensitively anywhere in the parameter's name.
_SECRET_PARAMETER = (r"[\w.-]*(?:signature|credential|token|secret|password|passwd|api[_-]?key"
                     r"|access[_-]?key|auth|session)[\w.-]*|sig|key|code")
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^\s/?#@'\"<>]+@")
# A value ends before the next parameter, a quote or a space; punctuation that ends a sentence
# around it ("...?sig=abc: no such file") is left in place.
_QUERY_SECRET = re.compile(
    rf"(?P<name>[?&;](?:{_SECRET_PARAMETER})=)(?:[^&#\s'\"<>]*[^&#\s'\"<>:,.;)])?",
    re.IGNORECASE)
_AUTHORIZATION = re.compile(
    r"(?P<name>\b(?:proxy-)?authorization['\"]?\s*[:=]\s*['\"]?)"
    r"(?:(?P<kind>basic|bearer|token|digest)\s+)?[^\s'\",}]+", re.IGNORECASE)
HIDDEN = "***"


def scrub(text: str) -> str:
    """``text`` with URL user names and passwords removed and secret query values and
    Authorization headers replaced by ``***``: exception texts (MLflow's carry the full URL) may
    then become messages, tags and printed lines."""
    text = _USERINFO.sub(r"\g<scheme>", text)
    text = _QUERY_SECRET.sub(rf"\g<name>{HIDDEN}", text)
    return _AUTHORIZATION.sub(
        lambda found: f"{found['name']}{found['kind'] + ' ' if found['kind'] else ''}{HIDDEN}",
        text)


def public_uri(uri: str) -> str:
    """``uri`` without any user name or password."""
    parts = urlsplit(uri)
    if parts.username is None and parts.password is None:
        return uri
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def public_location(uri: str) -> str:
    """Where ``uri`` points, fit to store: no user name, password, query string or fragment (a
    pre-signed link's signature lives in its query). A local path is returned as given."""
    parts = urlsplit(uri)
    if not parts.scheme or len(parts.scheme) == 1:  # a path, or a Windows drive letter
        return uri
    return urlunsplit((parts.scheme, urlsplit(public_uri(uri)).netloc, parts.path, "", ""))


def tracking_uri_for_humans() -> str:
    """The tracking URI this process uses (from the environment), credentials removed."""
    return public_uri(os.environ.get("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db"))
