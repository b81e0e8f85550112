"""Turn the core's user errors into IPython's one-line ``UsageError``."""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from IPython.core.error import UsageError

F = TypeVar("F", bound=Callable[..., Any])


def user_errors(func: F) -> F:
    """Decorator for magic bodies: an `NbstudioError` (or ValueError from parsing) becomes a
    `UsageError`, which IPython shows as one red line instead of a traceback; ``-h`` prints the
    magic's help."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from nbstudio.errors import NbstudioError
        from nbstudio.jupyter.arguments import MagicHelp

        try:
            return func(*args, **kwargs)
        except NbstudioError as exc:
            raise UsageError(str(exc)) from None
        except MagicHelp as shown:  # -h / --help: the help, and nothing done
            sys.stdout.write(inspect.cleandoc(shown.text) + "\n")
            return None

    return wrapper  # type: ignore[return-value]
