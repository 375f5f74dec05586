"""The one exception type for mistakes a user can make, and how a step reports failures.

No text leaves a step with a credential in it: a UserError's message, the tracking server's
refusals and our own tracebacks all pass through ``scrub`` (grocery/uris.py), since MLflow's
errors carry the tracking URI as it was given, user name and password included.
"""

from __future__ import annotations

import gc
import os
import re
import sys
import traceback
from collections.abc import Callable

from grocery.uris import scrub, tracking_uri_for_humans

# MLflow's error codes for an HTTP 403 and 401 (mlflow/protos/databricks.proto).
PERMISSION_DENIED = "PERMISSION_DENIED"
UNAUTHENTICATED = "UNAUTHENTICATED"
# What a refused request would have done, by the REST endpoint MLflow names in its error.
REFUSED_ACTIONS = {
    "experiments/create": "create an experiment",
    "experiments/set-experiment-tag": "tag an experiment",
    "runs/create": "create a run",
    "runs/update": "end a run",
    "runs/set-tag": "tag a run",
    "runs/log-batch": "log to a run",
    "registered-models/create": "create a registered model",
    "registered-models/alias": "move an alias",
    "model-versions/create": "register a model version",
    "model-versions/set-tag": "tag a model version",
}
_ENDPOINT = re.compile(r"endpoint \S*?/mlflow/(?P<path>[\w/-]+)")


class UserError(Exception):
    """A problem with the user's input: the message says what was wrong and what to do (and is
    scrubbed of credentials, wherever its text came from)."""

    def __init__(self, message: object = "") -> None:
        super().__init__(scrub(str(message)))


def first_line(error: BaseException) -> str:
    """An error's first line (a reader's, a download's or a server's may run to many), with any
    credentials scrubbed: fit for a one-line message or a tag."""
    return scrub((str(error).strip().splitlines() or [type(error).__name__])[0])


def lost_connection(error: BaseException) -> BaseException | None:
    """The network error behind ``error`` (MLflow wraps it after its retries), if any."""
    import requests

    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, requests.exceptions.RequestException | ConnectionError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def refusal(error: BaseException) -> UserError | None:
    """The tracking server's refusal behind ``error`` (HTTP 403, or 401 for missing or wrong
    credentials) as a one-line UserError naming what was refused; None for anything else."""
    seen: BaseException | None = error
    while seen is not None:
        code = getattr(seen, "error_code", None)
        if code in (PERMISSION_DENIED, UNAUTHENTICATED):
            return UserError(refusal_message(code, str(seen)))
        seen = seen.__cause__ or seen.__context__
    return None


def refusal_message(code: str, text: str) -> str:
    """What the server at the tracking URI refused, to whom, and what to do about it."""
    found = _ENDPOINT.search(text)
    endpoint = found["path"] if found else "a request"
    server = f"the tracking server at {tracking_uri_for_humans()}"
    if code == UNAUTHENTICATED:
        return (f"{server} did not accept the credentials for {endpoint}: set "
                "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (docs/team-server.md)")
    action = REFUSED_ACTIONS.get(endpoint, f"call {endpoint}")
    user = os.environ.get("MLFLOW_TRACKING_USERNAME") or "you"
    grant = ("the registered model" if endpoint.startswith(("registered-models", "model-versions"))
             else "the experiment")
    return (f"{server} refused to let {user} {action} ({endpoint}: permission denied); ask its "
            f"admin for EDIT on {grant} (docs/team-server.md)")


def print_traceback(error: BaseException) -> None:
    """Print ``error``'s traceback as Python would, scrubbed of credentials (our bugs keep
    their traceback, but not the tracking server's password)."""
    print(scrub("".join(traceback.format_exception(error))), end="", file=sys.stderr,
          flush=True)


def exit_on_user_error(main: Callable[[], None]) -> None:
    """Run a step's ``main``; a user's mistake or a lost tracking server becomes one line.

    A ``UserError`` or a refusal of the tracking server (403, 401) exits 2, a tracking server
    that stopped answering exits 3; anything else is our bug and keeps its (scrubbed) traceback,
    exit 1.
    """
    try:
        main()
    except UserError as error:
        print(f"error: {scrub(str(error))}", file=sys.stderr)
        sys.exit(2)
    except Exception as error:
        refused = refusal(error)
        if refused is not None:
            print(f"error: {refused}", file=sys.stderr)
            sys.exit(2)
        cause = lost_connection(error)
        if cause is None:
            print_traceback(error)
            sys.exit(1)
        print(f"error: lost the tracking server at {tracking_uri_for_humans()} "
              f"({type(cause).__name__}); start it again and rerun, finished steps are reused",
              file=sys.stderr)
        sys.exit(3)
    finally:
        # Everything is logged and every run ended by now. Freezing the heap spares the final
        # garbage collection of MLflow's ~2,200 modules at exit: ~0.7 s per step process
        # (docs/benchmarks.md). Exit handlers still run.
        gc.freeze()
