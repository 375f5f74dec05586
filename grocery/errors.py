"""The one exception type for mistakes a user can make, and how a step reports failures."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable

from grocery.uris import tracking_uri_for_humans


class UserError(Exception):
    """A problem with the user's input: the message says what was wrong and what to do."""


def lost_connection(error: BaseException) -> BaseException | None:
    """The network error behind ``error`` (MLflow wraps it after its retries), if any."""
    import requests

    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, requests.exceptions.RequestException | ConnectionError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def exit_on_user_error(main: Callable[[], None]) -> None:
    """Run a step's ``main``; a user's mistake or a lost tracking server becomes one line.

    A ``UserError`` exits 2, a tracking server that stopped answering exits 3; anything else is
    our bug and keeps its traceback.
    """
    try:
        main()
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except Exception as error:
        cause = lost_connection(error)
        if cause is None:
            raise
        print(f"error: lost the tracking server at {tracking_uri_for_humans()} "
              f"({type(cause).__name__}); start it again and rerun, finished steps are reused",
              file=sys.stderr)
        sys.exit(3)
    finally:
        # Everything is logged and every run ended by now. Freezing the heap spares the final
        # garbage collection of MLflow's ~2,200 modules at exit: ~0.7 s per step process
        # (docs/benchmarks.md). Exit handlers still run.
        gc.freeze()
