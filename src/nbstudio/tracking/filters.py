"""Build MLflow filter strings from values a user chose (model names, run ids, hosts).

MLflow's filter syntax has no escape inside a quoted string: a value holding ``'`` must be written
in double quotes and one holding ``"`` in single quotes; a value holding both cannot be written at
all. Every filter string nbstudio builds from a value goes through `quoted`, and every name that
later appears in a filter (a registered model's) is checked with `check_quotable` when it is made.
"""

from __future__ import annotations

from nbstudio.errors import QueryError


def check_quotable(value: str, what: str = "name") -> None:
    """Refuse a value MLflow's filter syntax could not match afterwards."""
    if "'" in value and '"' in value:
        raise QueryError(
            f"The {what} {value!r} holds both ' and \": MLflow cannot search for it; "
            "use one kind of quote at most."
        )


def quoted(value: str) -> str:
    """``value`` as a string literal of an MLflow filter, e.g. ``name = {quoted(name)}``."""
    check_quotable(value, "value")
    if "'" in value:
        return f'"{value}"'
    return f"'{value}'"


def equals(key: str, value: str) -> str:
    """The clause ``key = 'value'`` with the value quoted properly."""
    return f"{key} = {quoted(value)}"
