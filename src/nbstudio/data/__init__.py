"""Data assets and datastores: versioned, content-hashed, searchable, with lineage to runs.

``nbstudio.data.get("wine@latest").to_pandas()`` reads a version (and, inside a run, records it
as the run's input); ``nbstudio.data.create("wine", "wine.csv")`` makes one. See README "Data".
"""

from __future__ import annotations

from typing import Any

from nbstudio.data.errors import DataError, DataNotFoundError

__all__ = [
    "DataError",
    "DataNotFoundError",
    "archive",
    "create",
    "create_datastore",
    "delete_datastore",
    "get",
    "get_datastore",
    "list_assets",
    "list_datastores",
    "list_versions",
    "runs_using",
    "show",
]

_LAZY = {
    "get": ("nbstudio.data.assets", "get"),
    "create": ("nbstudio.data.assets", "create"),
    "DataAsset": ("nbstudio.data.assets", "DataAsset"),
    "list_assets": ("nbstudio.data.catalog", "list_assets"),
    "list_versions": ("nbstudio.data.catalog", "list_versions"),
    "archive": ("nbstudio.data.catalog", "archive"),
    "runs_using": ("nbstudio.data.catalog", "runs_using"),
    "show": ("nbstudio.data.catalog", "show"),
    "list_datastores": ("nbstudio.data.catalog", "list_datastores"),
    "create_datastore": ("nbstudio.data.catalog", "create_datastore"),
    "get_datastore": ("nbstudio.data.catalog", "get_datastore"),
    "delete_datastore": ("nbstudio.data.catalog", "delete_datastore"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'nbstudio.data' has no attribute {name!r}")
