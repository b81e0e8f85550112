"""Which variables a cell needs and which it makes, and packing them for the trip to a worker.

A cell sent to a compute target cannot see the kernel's namespace, so the names it *reads* (found
with `ast`, anywhere in the cell, functions and comprehensions included) are looked up in the
namespace and shipped with cloudpickle; the names it *assigns* at the top level are brought back.
Objects changed in place without being assigned (``items.append(1)``) are not brought back.

Example:
    >>> import ast
    >>> tree = ast.parse("model = fit(X, y)\\nscore = model.score(X, y)")
    >>> sorted(read_names(tree))
    ['X', 'fit', 'model', 'y']
    >>> sorted(assigned_names(tree))
    ['model', 'score']
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from typing import Any

import cloudpickle

from nbstudio.compute.errors import ComputeError

# Names IPython puts in every namespace: history and helpers that mean nothing on a worker.
_IPYTHON_HISTORY = re.compile(r"^_(i+|i?\d+)$")
_IPYTHON_NAMES = {"In", "Out", "exit", "quit", "get_ipython", "_", "__", "___", "_oh", "_ih", "_dh"}


def parse(source: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as exc:
        raise ComputeError(
            f"The cell is not valid Python (line {exc.lineno}: {exc.msg})."
        ) from None


def read_names(tree: ast.AST) -> set[str]:
    """Every name the code loads, at any depth (a function body reads globals too).

    ``x += 1`` reads ``x`` although its target is marked as a store.
    """
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load | ast.Del):
            names.add(node.id)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


class _TopLevelAssignments(ast.NodeVisitor):
    """Names bound at module level: assignments, loop targets, imports, defs, with/except names."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Store):
            self.names.add(node.id)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.names.add(node.name)
        for decorator in node.decorator_list:
            self.visit(decorator)  # a walrus in a decorator binds at module level

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.names.add(node.name)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        return  # its parameters are its own

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name != "*":
                self.names.add(alias.asname or alias.name.split(".")[0])

    visit_ImportFrom = visit_Import

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.names.add(node.name)
        self.generic_visit(node)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        if node.name:
            self.names.add(node.name)
        self.generic_visit(node)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name:
            self.names.add(node.name)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        if node.rest:
            self.names.add(node.rest)
        self.generic_visit(node)

    def _comprehension(self, node: ast.AST) -> None:
        # Comprehension variables are local to it; only a walrus inside leaks out.
        for child in ast.walk(node):
            if isinstance(child, ast.NamedExpr) and isinstance(child.target, ast.Name):
                self.names.add(child.target.id)

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension


def assigned_names(tree: ast.AST) -> set[str]:
    """Names the code binds at the top level, i.e. the variables it leaves in the namespace."""
    visitor = _TopLevelAssignments()
    visitor.visit(tree)
    return visitor.names


def _shippable(name: str) -> bool:
    return not (name in _IPYTHON_NAMES or name.startswith("__") or _IPYTHON_HISTORY.match(name))


def names_to_ship(tree: ast.AST, namespace: Mapping[str, Any]) -> list[str]:
    """The namespace entries the code reads (builtins it does not shadow stay behind)."""
    return sorted(n for n in read_names(tree) if n in namespace and _shippable(n))


def pack(
    namespace: Mapping[str, Any], names: Iterable[str], where: str, optional: set[str] | None = None
) -> tuple[dict[str, bytes], list[str]]:
    """Pickle ``namespace[name]`` for each name; an unpicklable one is a clear error naming it.

    Names in ``optional`` (variables the code assigns anyway) are skipped instead of failing,
    and returned as the second item.
    """
    packed: dict[str, bytes] = {}
    skipped: list[str] = []
    for name in names:
        try:
            packed[name] = cloudpickle.dumps(namespace[name])
        except Exception as exc:
            if optional and name in optional:
                skipped.append(name)
                continue
            kind = type(namespace[name]).__name__
            raise ComputeError(
                f"Variable {name!r} ({kind}) cannot be shipped to {where}: {_reason(exc)}. "
                "Create it inside the cell instead, or run the cell locally."
            ) from None
    return packed, skipped


def unpack(packed: Mapping[str, bytes]) -> dict[str, Any]:
    return {name: cloudpickle.loads(data) for name, data in packed.items()}


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
