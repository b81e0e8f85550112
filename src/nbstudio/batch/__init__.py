"""Batch endpoints: score a data asset version with a registered model on Dask, as a job (a run).

``nbstudio.batch.score("wine@champion", "wine-new@2", compute="cpu")`` returns a `BatchJob`
(``.wait()``, ``.output``); a batch endpoint (`nbstudio.batch.commands`) names a model alias and
its jobs' defaults. See README "Batch endpoints".
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BatchError",
    "BatchJob",
    "create",
    "delete",
    "invoke",
    "jobs",
    "list_endpoints",
    "score",
    "show",
]

_LAZY = {
    "score": ("nbstudio.batch.jobs", "score"),
    "BatchJob": ("nbstudio.batch.jobs", "BatchJob"),
    "BatchError": ("nbstudio.batch.errors", "BatchError"),
    "create": ("nbstudio.batch.commands", "create"),
    "invoke": ("nbstudio.batch.commands", "invoke"),
    "jobs": ("nbstudio.batch.commands", "jobs"),
    "show": ("nbstudio.batch.commands", "show"),
    "delete": ("nbstudio.batch.commands", "delete"),
    "list_endpoints": ("nbstudio.batch.commands", "list_endpoints"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'nbstudio.batch' has no attribute {name!r}")
