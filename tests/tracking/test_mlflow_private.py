"""MLflow's private names are used in one module only: an MLflow upgrade breaks one place."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import mlflow

import nbstudio

SRC = Path(nbstudio.__file__).parent
ALLOWED = {"tracking/mlflow_private.py"}


def _modules() -> list[Path]:
    return [p for p in SRC.rglob("*.py") if "labextension" not in p.relative_to(SRC).parts]


def _mlflow_private_names() -> set[str]:
    """Every ``_name`` (not dunder) written anywhere in MLflow's source."""
    pattern = re.compile(r"\b(_[A-Za-z][A-Za-z0-9_]*)")
    names: set[str] = set()
    for path in Path(mlflow.__file__).parent.rglob("*.py"):
        names.update(pattern.findall(path.read_text(errors="replace")))
    return {n for n in names if not n.endswith("__")}


def _own_private_names() -> set[str]:
    """Private names nbstudio defines itself (its own attributes, functions, variables)."""
    names: set[str] = set()
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
    return {n for n in names if n.startswith("_")}


def private_uses(tree: ast.AST, mlflow_names: set[str], own: set[str]) -> list[tuple[int, str]]:
    """(line, name) of each private MLflow name a module imports or reads."""
    found = []
    # Names bound to modules other than MLflow's (os._exit is the standard library's business).
    others = {
        (a.asname or a.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for a in node.names
        if a.name.split(".")[0] != "mlflow"
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "mlflow":
            parts = (node.module or "").split(".")
            for alias in node.names:
                if any(p.startswith("_") for p in [*parts, alias.name]):
                    found.append((node.lineno, alias.name))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "mlflow" and any(p.startswith("_") for p in parts):
                    found.append((node.lineno, alias.name))
        elif isinstance(node, ast.Attribute):
            name = node.attr
            base = node.value.id if isinstance(node.value, ast.Name) else None
            private = name.startswith("_") and not name.endswith("__")
            if private and base not in others and name in mlflow_names and name not in own:
                found.append((node.lineno, name))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", None)
            in {
                "getattr",
                "setattr",
                "hasattr",
            }
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
        ):
            name = node.args[1].value
            if isinstance(name, str) and name in mlflow_names and name not in own:
                found.append((node.lineno, name))
    return found


def test_mlflow_private_names_live_in_one_module() -> None:
    mlflow_names = _mlflow_private_names()
    own = _own_private_names()
    offenders = []
    for path in _modules():
        rel = path.relative_to(SRC).as_posix()
        if rel in ALLOWED:
            continue
        for line, name in private_uses(ast.parse(path.read_text()), mlflow_names, own):
            offenders.append(f"{rel}:{line} {name}")
    # Rule: no module but tracking/mlflow_private.py touches a private MLflow name.
    assert offenders == []


def test_the_scan_sees_each_kind_of_use() -> None:
    mlflow_names = _mlflow_private_names()
    own = _own_private_names()
    source = (
        "from mlflow.utils.validation import _validate_metric_name\n"
        "import mlflow.store._unity_catalog\n"
        "store = client._tracking_client.store\n"
        "getattr(SearchUtils, '_ATTRIBUTE_IDENTIFIER')\n"
        "self._lock = None\n"
        "x = self._lock\n"
        "import os\n"
        "os._exit(0)\n"
    )
    found = private_uses(ast.parse(source), mlflow_names, own)
    # Rule: imports, attribute reads and getattr by name are caught; nbstudio's own
    # private attributes (here `_lock`) and the standard library's (`os._exit`) are not MLflow's.
    assert sorted(n for _, n in found) == [
        "_ATTRIBUTE_IDENTIFIER",
        "_tracking_client",
        "_validate_metric_name",
        "mlflow.store._unity_catalog",
    ]
