"""The one exception type for mistakes a user can make, and how a step reports it."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable


class UserError(Exception):
    """A problem with the user's input: the message says what was wrong and what to do."""


def exit_on_user_error(main: Callable[[], None]) -> None:
    """Run a step's ``main``; a ``UserError`` becomes one line on stderr and exit status 2."""
    try:
        main()
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    finally:
        # Everything is logged and every run ended by now. Freezing the heap spares the final
        # garbage collection of MLflow's ~2,200 modules at exit: ~0.7 s per step process
        # (docs/benchmarks.md). Exit handlers still run.
        gc.freeze()
