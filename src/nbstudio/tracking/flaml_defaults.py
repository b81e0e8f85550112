"""Inside a tracked run, FLAML's own MLflow logging is off unless the code asks for it.

FLAML logs to MLflow by itself whenever a run is active: a child run per trial written
synchronously (about 60 ms each), and the best trial's params copied onto the active run with
``MlflowClient.log_param`` calls whose refusals FLAML expects to catch. A tracked run logs
asynchronously, so those refusals arrive later as refused data and would end a ``%%mlrun`` cell
FAILED although FLAML worked. nbstudio records trials itself (``%automl``); a cell that wants
FLAML's own records passes ``mlflow_logging=True`` explicitly.

FLAML is imported by the user's code, usually after the run has started, so the default is set
by wrapping ``AutoML.__init__`` when ``flaml.automl.automl`` is first imported (a meta-path hook
that touches no other module), or at once if it already is.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
from types import ModuleType
from typing import Any

MODULE = "flaml.automl.automl"
_lock = threading.Lock()
_active = 0


def _patch(module: ModuleType) -> None:
    cls = getattr(module, "AutoML", None)
    original = getattr(cls, "__init__", None)
    if cls is None or original is None or getattr(original, "_nbstudio", False):
        return

    @functools.wraps(original)
    def __init__(self: Any, **settings: Any) -> None:
        if _active and "mlflow_logging" not in settings:
            settings["mlflow_logging"] = False
        original(self, **settings)

    __init__._nbstudio = True  # type: ignore[attr-defined]
    cls.__init__ = __init__


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        _patch(module)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != MODULE:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _PatchingLoader(spec.loader)
                return spec
        return None


_finder = _Finder()


def enter() -> None:
    """A tracked run starts: FLAML's default logging is off until the matching `leave`."""
    global _active
    with _lock:
        _active += 1
        module = sys.modules.get(MODULE)
        if module is not None:
            _patch(module)
        elif _finder not in sys.meta_path:
            sys.meta_path.insert(0, _finder)


def leave() -> None:
    global _active
    with _lock:
        _active = max(0, _active - 1)
