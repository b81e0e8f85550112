"""Read Python literals typed by a user (``-p k=v`` values, distribution arguments) safely.

``ast.literal_eval`` is the right tool but not a total one: ``{[]: 1}`` and ``{{1}}`` raise
TypeError, ``-`` * 3000 + ``1`` raises RecursionError, a huge text exhausts memory. Every reader of
user-typed literals goes through `read_literal`, which fails with `LiteralError` only (a
ValueError, so callers word it as one line) and bounds the text it accepts. New magics reuse it.
"""

from __future__ import annotations

import ast
from typing import Any

# Longer texts are refused before parsing: nothing a magic option needs is this long.
MAX_LITERAL_CHARS = 20_000

_ALL_FAILURES = (ValueError, TypeError, SyntaxError, MemoryError, RecursionError, OverflowError)


class LiteralError(ValueError):
    """The text is not a Python literal nbstudio accepts; the message says why, in one line."""


def parse_expression(text: str, what: str = "a Python expression") -> ast.expr:
    """``text`` parsed as one Python expression (not evaluated), within the size limits."""
    if len(text) > MAX_LITERAL_CHARS:
        raise LiteralError(f"{_short(text)} is longer than {MAX_LITERAL_CHARS} characters")
    try:
        return ast.parse(text.strip(), mode="eval").body
    except _ALL_FAILURES as exc:
        raise LiteralError(f"{_short(text)} is not {what} ({_reason(exc)})") from None


def read_literal(source: str | ast.expr) -> Any:
    """The value of a literal (numbers, strings, bytes, tuples, lists, dicts, sets, True/False/
    None), from its text or its parsed node. Raises `LiteralError` for anything else."""
    node = parse_expression(source, "a Python literal") if isinstance(source, str) else source
    try:
        return ast.literal_eval(node)
    except _ALL_FAILURES as exc:
        text = source if isinstance(source, str) else (ast.unparse(node) if _small(node) else "")
        raise LiteralError(f"{_short(text)} is not a Python literal ({_reason(exc)})") from None


def _small(node: ast.AST) -> bool:
    try:
        return sum(1 for _ in ast.walk(node)) < 200
    except RecursionError:
        return False


def _short(text: str) -> str:
    return repr(text) if len(text) <= 60 else repr(text[:57] + "...")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, MemoryError):
        return "too large"
    message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    return " ".join(str(message).split()) or type(exc).__name__
