"""Module-scoped workspaces: one store for a whole test module, built once (clusters, endpoints,
populated stores take seconds to set up)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def module_workspace(root: Path, tracking_uri: str | None = None) -> Iterator[Path]:
    """``root`` (created, with an nbstudio.toml) as the current folder and the session's workspace,
    with no tracking server or notebook name inherited from the environment; the session is reset
    on the way out. ``tracking_uri`` (a PostgreSQL database, say) replaces the embedded store."""
    from nbstudio.session import reset_session

    root.mkdir(parents=True, exist_ok=True)
    config = f'tracking_uri = "{tracking_uri}"\n' if tracking_uri else ""
    (root / "nbstudio.toml").write_text(config)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        mp.delenv("JPY_SESSION_NAME", raising=False)
        reset_session(root)
        try:
            yield root
        finally:
            reset_session()
