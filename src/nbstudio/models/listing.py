"""Registered models with their versions and aliases, as the side panel's Models section shows them.

Two paged searches (all models, all versions) instead of one version search per model, so a
registry with many models costs two round trips to a tracking server, not one per model.
"""

from __future__ import annotations

from typing import Any

from nbstudio.session import Session, get_session


def _all_pages(search: Any, **kwargs: Any) -> list[Any]:
    found: list[Any] = []
    token = None
    while True:
        page = search(page_token=token, **kwargs)
        found.extend(page)
        token = page.token
        if not token:
            return found


def list_models_json(session: Session | None = None) -> list[dict[str, Any]]:
    """Every registered model (by name), its versions newest first (the REST API wraps the list
    as ``{"models": [...]}``)."""
    session = session or get_session()
    if not session.store_exists():
        return []
    session.workspace  # noqa: B018 - opens the store and points the registry at it
    client = session.client()
    models = _all_pages(client.search_registered_models, max_results=1000)
    versions: dict[str, list[dict[str, Any]]] = {}
    for version in _all_pages(client.search_model_versions, max_results=10_000):
        versions.setdefault(version.name, []).append(
            {
                "version": str(version.version),
                "run_id": version.run_id,
                "status": version.status,
                "source": version.source,
                "creation_timestamp": version.creation_timestamp,
                "aliases": [],  # filled from the model's alias table below
            }
        )
    rows = []
    for model in sorted(models, key=lambda m: m.name):
        # A version search does not return aliases on every store: the model's table does.
        aliases = {k: str(v) for k, v in sorted((model.aliases or {}).items())}
        for version in versions.get(model.name, []):
            version["aliases"] = [a for a, v in aliases.items() if v == version["version"]]
        rows.append(
            {
                "name": model.name,
                "description": model.description or "",
                "aliases": aliases,
                "versions": sorted(
                    versions.get(model.name, []), key=lambda v: int(v["version"]), reverse=True
                ),
            }
        )
    return rows
