"""What a component's code is, for its cache key: normalised source, helpers, constants, packages.

The source is compared as an AST (decorators and docstrings dropped), so comments and formatting
never count. Every name the function reads is followed: functions and classes defined in the
notebook or the workspace are fingerprinted the same way, transitively (an edited helper changes
the key: ZenML #1011, Kubeflow #8792); constant globals count by value; anything imported from an
installed package counts by that package's version. Whatever cannot be described this way raises
`Unfingerprintable`: the step then runs uncached, never under a constant key (Hamilton #1715).
"""

from __future__ import annotations

import ast
import builtins
import functools
import hashlib
import importlib.metadata
import inspect
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

from nbstudio.tracking.environment import installed_versions, normalise


class Unfingerprintable(Exception):
    """This input or global cannot be described by content: the step runs uncached."""


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@functools.cache
def _distributions() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def package_version(module_name: str) -> str:
    """``name==version`` of the distribution providing top-level module ``module_name``."""
    top = module_name.split(".", 1)[0]
    if top in sys.stdlib_module_names or top == "builtins":
        return f"python=={sys.version_info.major}.{sys.version_info.minor}"
    versions = installed_versions()
    if normalise(top) in versions:
        return f"{normalise(top)}=={versions[normalise(top)]}"
    version = getattr(sys.modules.get(top), "__version__", None)
    if isinstance(version, str):  # sklearn, cv2, ...: the module's own version
        return f"{top}=={version}"
    for dist in _distributions().get(top, [top]):  # slow (reads every RECORD): last resort
        version = versions.get(normalise(dist))
        if version is not None:
            return f"{normalise(dist)}=={version}"
    return f"{top}==unknown"


def _normalised_node(obj: Any) -> ast.AST:
    try:
        source = textwrap.dedent(inspect.getsource(obj))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError, IndentationError) as exc:
        raise Unfingerprintable(f"the source of {_label(obj)} cannot be read ({exc})") from None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            node.decorator_list = []
            _drop_docstrings(node)
            return node
    raise Unfingerprintable(f"the source of {_label(obj)} is not a def or class")


def _drop_docstrings(node: ast.AST) -> None:
    for inner in ast.walk(node):
        if isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            body = inner.body
            first = body[0] if body else None
            docstring = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            if docstring and isinstance(first.value.value, str):
                inner.body = body[1:] or [ast.Pass()]


def _label(obj: Any) -> str:
    """``module.qualname``; a function defined where no ``__name__`` is set (a shell whose
    namespace was reset) is the notebook's own, ``__main__``, as in any kernel."""
    module = getattr(obj, "__module__", "?") or "__main__"
    return f"{module}.{getattr(obj, '__qualname__', repr(obj))}"


def _local_names(node: ast.AST) -> set[str]:
    """Names bound inside ``node`` (arguments, assignments, imports, inner defs)."""
    names: set[str] = set()
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Store | ast.Del):
            names.add(inner.id)
        elif isinstance(inner, ast.arg):
            names.add(inner.arg)
        elif isinstance(inner, ast.alias):
            names.add((inner.asname or inner.name).split(".", 1)[0])
        elif inner is not node and isinstance(
            inner, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
        ):
            names.add(inner.name)
    return names


def _read_names(node: ast.AST) -> dict[str, set[str]]:
    """Free names read by ``node`` -> attributes read on them (``utils.clean`` -> {clean})."""
    local = _local_names(node)
    read: dict[str, set[str]] = {}
    for inner in ast.walk(node):
        if isinstance(inner, ast.Attribute) and isinstance(inner.value, ast.Name):
            if inner.value.id not in local:
                read.setdefault(inner.value.id, set()).add(inner.attr)
        elif (
            isinstance(inner, ast.Name)
            and isinstance(inner.ctx, ast.Load)
            and inner.id not in local
        ):
            read.setdefault(inner.id, set())
    return read


def _imports(node: ast.AST) -> set[str]:
    found = set()
    for inner in ast.walk(node):
        if isinstance(inner, ast.Import):
            found.update(alias.name for alias in inner.names)
        elif isinstance(inner, ast.ImportFrom) and inner.module and inner.level == 0:
            found.add(inner.module)
    return found


class CodeFingerprint:
    """Walks a function and what it uses; `recipe()` is the ``code`` part of a cache key."""

    def __init__(self, workspace_root: Path | None, describe_value: Any) -> None:
        self.root = workspace_root.resolve() if workspace_root else None
        self.describe_value = describe_value  # value -> JSON-able fingerprint (constants)
        self.helpers: dict[str, str] = {}
        self.constants: dict[str, Any] = {}
        self.packages: dict[str, str] = {}

    def recipe(self, fn: Any) -> dict[str, Any]:
        label = _label(fn)
        source = self._visit(fn)
        return {
            "function": label,
            "source": source,
            "helpers": dict(sorted(self.helpers.items())),
            "constants": dict(sorted(self.constants.items())),
            "packages": dict(sorted(self.packages.items())),
        }

    # -- walking -------------------------------------------------------------------------------
    def _visit(self, obj: Any) -> str:
        node = _normalised_node(obj)
        digest = sha(ast.dump(node, annotate_fields=False, include_attributes=False))
        for module in _imports(node):
            self._package(module)
        scope = self._scope(obj)
        for name, attrs in sorted(_read_names(node).items()):
            if name in scope:
                self._use(_label(obj), name, scope[name], attrs)
            elif not hasattr(builtins, name) and name != "__class__":
                # read but not defined yet (a later cell): its absence is part of the key
                self.constants[f"{_label(obj)}:{name}"] = "<undefined>"
        return digest

    @staticmethod
    def _scope(obj: Any) -> dict[str, Any]:
        fn = obj
        if isinstance(obj, type):
            module = sys.modules.get(obj.__module__)
            return dict(vars(module)) if module else {}
        scope = dict(getattr(fn, "__globals__", {}))
        if getattr(fn, "__closure__", None):
            for name, cell in zip(fn.__code__.co_freevars, fn.__closure__, strict=True):
                try:
                    scope[name] = cell.cell_contents
                except ValueError:  # an empty cell: not assigned yet
                    continue
        return scope

    def _use(self, owner: str, name: str, value: Any, attrs: set[str]) -> None:
        from nbstudio.pipelines.component import Component

        if isinstance(value, Component):
            value = value.fn
        if isinstance(value, types.ModuleType):
            if self._is_users(value):
                for attr in sorted(attrs):
                    if hasattr(value, attr):
                        self._use(owner, f"{name}.{attr}", getattr(value, attr), set())
            else:
                self._package(value.__name__)
            return
        if isinstance(value, types.FunctionType | type):
            if self._is_users(value):
                label = _label(value)
                if label not in self.helpers:
                    self.helpers[label] = "…"  # a cycle stops here
                    self.helpers[label] = self._visit(value)
            else:
                self._package(getattr(value, "__module__", None) or "builtins")
            return
        kind = type(value).__module__
        if kind.startswith(("typing", "nbstudio.pipelines")):  # annotations: Any, Outputs[...]
            self._package(kind)
            return
        if callable(value) and not isinstance(value, type) and hasattr(value, "__module__"):
            module = getattr(value, "__module__", None)
            if isinstance(module, str) and not module.startswith("__main__"):
                self._package(module)  # builtin functions, ufuncs, partials of library code
                return
        self.constants[f"{owner}:{name}"] = self.describe_value(value)

    def _package(self, module: str) -> None:
        if module.split(".", 1)[0] == "__main__":
            return
        text = package_version(module)
        name, _, version = text.partition("==")
        self.packages[name] = version

    def _is_users(self, obj: Any) -> bool:
        """Defined in the notebook (``__main__``) or a module inside the workspace folder."""
        module_name = obj.__name__ if isinstance(obj, types.ModuleType) else obj.__module__
        if module_name in (None, "__main__") or str(module_name).startswith("__main__"):
            return True
        module = sys.modules.get(module_name)
        file = getattr(module, "__file__", None)
        if not file or self.root is None:
            return False
        path = Path(file).resolve()
        if "site-packages" in path.parts or path.is_relative_to(Path(sys.prefix).resolve()):
            return False
        return path.is_relative_to(self.root)
