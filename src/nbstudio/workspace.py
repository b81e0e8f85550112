"""Find the workspace folder and resolve where its runs, models and resources live.

The workspace is the nearest folder upwards from the current directory holding ``nbstudio.toml``,
else the current directory. The tracking store defaults to an embedded SQLite file inside it so
that a class needs no server; ``tracking_uri`` in ``nbstudio.toml`` and then
``MLFLOW_TRACKING_URI`` point at a shared MLflow server instead, and nothing else changes.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbstudio.errors import WorkspaceError

CONFIG_FILE = "nbstudio.toml"
# Set beside MLFLOW_TRACKING_URI when nbstudio exported it itself, so that it is not mistaken for
# the user's explicit choice when the workspace changes.
IMPLICIT_URI_ENV = "NBSTUDIO_IMPLICIT_TRACKING_URI"
DATA_DIR = ".nbstudio"


@dataclass(frozen=True)
class Workspace:
    """A resolved workspace: where it is and which stores it uses."""

    root: Path
    tracking_uri: str
    artifact_root: Path
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        """The folder holding nbstudio's own files (store, artifacts, compute, endpoints)."""
        return self.root / DATA_DIR

    @property
    def uses_embedded_store(self) -> bool:
        """True when runs go to this workspace's own SQLite file rather than a shared server."""
        return self.tracking_uri == default_tracking_uri(self.root)

    @property
    def is_sqlite(self) -> bool:
        return self.tracking_uri.startswith("sqlite:")

    @property
    def is_remote(self) -> bool:
        return self.tracking_uri.startswith(("http://", "https://"))


def find_root(start: Path | None = None) -> Path:
    """The nearest folder upwards from ``start`` with ``nbstudio.toml``, else ``start``."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    return here


def default_tracking_uri(root: Path) -> str:
    return f"sqlite:///{root / DATA_DIR / 'mlflow.db'}"


def read_config(root: Path) -> dict[str, Any]:
    path = root / CONFIG_FILE
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(f"{path} is not valid TOML: {exc}") from None


def _resolve_configured_uri(uri: str, root: Path) -> str:
    """Make a relative SQLite path in nbstudio.toml relative to the workspace, not to the cwd."""
    prefix = "sqlite:///"
    if uri.startswith(prefix) and not uri.startswith(prefix + "/"):
        return prefix + str((root / uri[len(prefix) :]).resolve())
    return uri


def resolve(start: Path | None = None) -> Workspace:
    """Resolve the workspace for ``start`` (default: the current directory)."""
    root = find_root(start)
    config = read_config(root)
    uri = _explicit_env_uri() or config.get("tracking_uri")
    tracking_uri = _resolve_configured_uri(uri, root) if uri else default_tracking_uri(root)
    artifact_root = Path(config.get("artifact_root", root / DATA_DIR / "artifacts"))
    if not artifact_root.is_absolute():
        artifact_root = (root / artifact_root).resolve()
    return Workspace(
        root=root, tracking_uri=tracking_uri, artifact_root=artifact_root, config=config
    )


def _explicit_env_uri() -> str | None:
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if uri and uri == os.environ.get(IMPLICIT_URI_ENV):
        return None
    return uri or None


def export_tracking_uri(ws: Workspace) -> None:
    """Point plain MLflow calls (and child processes) at the workspace's store via the environment.

    Cheap, so ``%load_ext`` can do it without importing MLflow: a cell that calls
    ``mlflow.start_run()`` before any nbstudio magic still records into the workspace. A URI the
    user set explicitly is left alone.
    """
    if _explicit_env_uri() is None:
        os.environ["MLFLOW_TRACKING_URI"] = ws.tracking_uri
        os.environ[IMPLICIT_URI_ENV] = ws.tracking_uri
