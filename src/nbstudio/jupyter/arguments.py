"""Parse magic arguments the way a shell user expects.

IPython's default splitting keeps quotes but breaks ``-p C="loguniform(1e-3, 1e2)"`` at the space,
so lines are split shell-style (quotes group, then disappear) before argparse sees them. Values of
``-p k=v`` are then read as Python literals; a bare word is a string, and a call such as
``loguniform(1e-3, 1e2)`` is kept as an `Expression` for the sweep engine to interpret.
"""

from __future__ import annotations

import ast
import builtins
import re
import sys
from dataclasses import dataclass
from typing import Any

from IPython.core.error import UsageError
from IPython.utils.process import arg_split

from nbstudio.literals import LiteralError, parse_expression, read_literal

_BARE_WORD = re.compile(r"^[A-Za-z_][\w\-./:]*$")
_KEY = re.compile(r"^[A-Za-z_]\w*$")


@dataclass(frozen=True)
class Expression:
    """A ``-p`` value written as a call, e.g. ``choice('a', 'b')``: a sweep distribution."""

    text: str


def split_line(line: str) -> list[str]:
    try:
        return arg_split(line, posix=True, strict=True)
    except ValueError as exc:
        raise UsageError(f"Cannot read the options ({exc}): check the quotes.") from None


HELP_FLAGS = frozenset({"-h", "--help"})


class MagicHelp(Exception):
    """``-h``/``--help`` was given: `user_errors` prints ``text`` and the magic does nothing."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def parse_args(magic: Any, line: str) -> Any:
    """``parse_argstring`` with shell-style splitting; argparse errors become `UsageError`,
    and ``-h``/``--help`` anywhere shows the magic's help (IPython's parsers have no -h)."""
    words = split_line(line)
    if HELP_FLAGS & set(words):
        raise MagicHelp(magic.__doc__ or magic.parser.format_help())
    return magic.parser.parse_args(words)


def parse_value(text: str) -> Any:
    """A ``-p`` value: a Python literal, a bare word (a string) or a call (an `Expression`)."""
    try:
        return read_literal(text)
    except LiteralError as exc:
        why = str(exc)
    if _BARE_WORD.match(text) and text not in {"True", "False", "None"}:
        return text
    try:
        node = parse_expression(text)
    except LiteralError:
        node = None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return Expression(text)
    raise UsageError(
        f"{why}. Use numbers, quoted strings, lists or dicts, "
        "e.g. -p alpha=0.5 -p kernel=\"'rbf'\" -p layers='[64, 32]'."
    )


def parse_assignments(items: list[str] | None, option: str, literal: bool = True) -> dict:
    """``["k=v", ...]`` to a dict; values as Python literals (or raw strings for tags)."""
    result: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"{option} {item!r}: expected KEY=VALUE, e.g. {option} alpha=0.5")
        if literal and not _KEY.match(key):
            raise UsageError(f"{option} {item!r}: {key!r} is not a valid Python variable name")
        if literal and key in vars(builtins):
            # Legal, but the cell then loses the builtin: say so once, do not refuse.
            print(  # noqa: T201 - a warning line under the cell
                f"Warning: {option} {key}=... hides Python's builtin {key!r} in this notebook "
                f"(restore it with: del {key}).",
                file=sys.stderr,
            )
        result[key] = parse_value(value.strip()) if literal else value
    return result
