"""The one exception type for mistakes a user can make, and how a step reports it."""

from __future__ import annotations

import sys
from collections.abc import Callable


class UserError(Exception):
    """A problem with the user's input: the message says what was wrong and what to do."""


def exit_on_user_error(main: Callable[[], None]) -> None:
    """Run ``main``; a ``UserError`` becomes one line on stderr and exit status 2."""
    try:
        main()
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
