"""Module-scoped workspaces: one store for a whole test module, built once (clusters, endpoints,
populated stores take seconds to set up)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def module_workspace(root: Path) -> Iterator[Path]:
    """``root`` (created, with an nbstudio.toml) as the current folder and the session's workspace,
    with no tracking server or notebook name inherited from the environment; the session is reset
    on the way out."""
    from nbstudio.session import reset_session

    root.mkdir(parents=True, exist_ok=True)
    (root / "nbstudio.toml").write_text("")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        mp.delenv("JPY_SESSION_NAME", raising=False)
        reset_session(root)
        try:
            yield root
        finally:
            reset_session()
