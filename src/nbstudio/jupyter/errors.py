"""Turn the core's user errors into IPython's one-line ``UsageError``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from IPython.core.error import UsageError

F = TypeVar("F", bound=Callable[..., Any])


def user_errors(func: F) -> F:
    """Decorator for magic bodies: an `NbstudioError` (or ValueError from parsing) becomes a
    `UsageError`, which IPython shows as one red line instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from nbstudio.errors import NbstudioError

        try:
            return func(*args, **kwargs)
        except NbstudioError as exc:
            raise UsageError(str(exc)) from None

    return wrapper  # type: ignore[return-value]
