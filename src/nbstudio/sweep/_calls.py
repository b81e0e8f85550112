"""Read expressions such as ``loguniform(1e-3, 1e2)`` or ``bandit(slack_factor=0.1)`` safely.

Search spaces and policies arrive as text (magic options, MLflow tags). They are parsed with `ast`
and only literals are accepted as arguments, so the text is never executed: ``choice(__import__(
'os'))`` is an error, not a call. ``range(...)`` is allowed as an argument because Azure ML's
``choice(range(1, 10))`` is a common way to write integer choices.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from nbstudio.literals import LiteralError, parse_expression, read_literal

# choice(range(...)) becomes a list of values: a longer range is not a search space.
MAX_RANGE_LENGTH = 100_000


@dataclass(frozen=True)
class Call:
    """A parsed ``name(args, kwargs)`` expression, its arguments as Python values."""

    name: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


class CallSyntaxError(ValueError):
    """The text is not ``name(literal, ..., key=literal)``."""


def _literal(node: ast.expr, text: str) -> Any:
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "range"
        and not node.keywords
    ):
        bounds = [_literal(arg, text) for arg in node.args]
        if not 1 <= len(bounds) <= 3 or not all(type(b) is int for b in bounds):
            raise CallSyntaxError(f"range() takes 1 to 3 integers, in {text!r}")
        if len(bounds) == 3 and bounds[2] == 0:
            raise CallSyntaxError(f"range() step must not be zero, in {text!r}")
        values = range(*bounds)
        if abs(values.stop - values.start) > MAX_RANGE_LENGTH * abs(values.step):
            raise CallSyntaxError(f"range() gives more than {MAX_RANGE_LENGTH} values, in {text!r}")
        return list(values)
    try:
        return read_literal(node)
    except LiteralError:
        source = ast.get_source_segment(text, node) or "an argument"
        raise CallSyntaxError(
            f"{source!r} in {text!r} is not a literal (numbers, strings, lists, True/False/None)"
        ) from None


def parse_call(text: str, *, bare_name: bool = False) -> Call:
    """Parse ``text`` as ``name(...)`` with literal arguments.

    Args:
        text: the expression.
        bare_name: also accept a bare ``name`` (e.g. ``median_stopping``), as a call with no
            arguments.

    Raises:
        CallSyntaxError: with a message that quotes the offending text.
    """
    stripped = text.strip()
    try:
        node = parse_expression(stripped)
    except LiteralError:
        raise CallSyntaxError(f"{text!r} is not an expression such as name(1, 2)") from None
    if bare_name and isinstance(node, ast.Name):
        return Call(node.id)
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise CallSyntaxError(f"{text!r} is not a call such as name(1, 2)")
    if any(isinstance(arg, ast.Starred) for arg in node.args) or any(
        kw.arg is None for kw in node.keywords
    ):
        raise CallSyntaxError(f"{text!r}: * and ** arguments are not supported")
    args = tuple(_literal(arg, stripped) for arg in node.args)
    kwargs = {kw.arg: _literal(kw.value, stripped) for kw in node.keywords if kw.arg}
    return Call(node.func.id, args, kwargs)


def format_call(name: str, *args: Any, **kwargs: Any) -> str:
    """The canonical text of a call, which `parse_call` reads back to the same values."""
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"
