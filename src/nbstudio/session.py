"""The process's connection to its workspace: opened once, shared by every layer.

Opening points MLflow (tracking and registry) at the workspace's store, so that plain ``mlflow``
calls in a cell, ``mlflow.search_runs`` included, read and write the same runs nbstudio records. It
also ends runs left RUNNING by kernels that died since the last visit.
"""

from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from nbstudio import store, workspace
from nbstudio.errors import WorkspaceError

if TYPE_CHECKING:
    from mlflow import MlflowClient

DEFAULT_EXPERIMENT = "notebook"


def notebook_api_path() -> str | None:
    """The notebook's path as the Jupyter server knows it (it sets ``JPY_SESSION_NAME``)."""
    return os.environ.get("JPY_SESSION_NAME") or None


class Session:
    """Process-wide nbstudio state: the open workspace, the chosen experiment, the last run."""

    def __init__(self, start: Path | None = None) -> None:
        self._start = start
        self._workspace: workspace.Workspace | None = None
        self._experiment_ids: dict[str, str] = {}
        self._lock = threading.Lock()
        self.experiment_override: str | None = None
        self.last_run_id: str | None = None

    @property
    def workspace(self) -> workspace.Workspace:
        """The workspace, opened on first use."""
        if self._workspace is None:
            with self._lock:
                if self._workspace is None:
                    self._workspace = self._open()
        return self._workspace

    def located_workspace(self) -> workspace.Workspace:
        """The workspace, found without opening its MLflow store (the open one if it is open).

        For commands that only touch files in the workspace folder: opening the store imports
        MLflow and prepares SQLite, seconds that a quick terminal command should not pay.
        """
        return self._workspace or workspace.resolve(self._start)

    def store_exists(self) -> bool:
        """False while the workspace's SQLite store was never created (a folder the panel is
        merely opened on): reads then answer empty and create nothing, no ``.nbstudio/``."""
        if self._workspace is not None:
            return True
        ws = self.located_workspace()
        return not ws.is_sqlite or store.sqlite_path(ws.tracking_uri).exists()

    def _open(self) -> workspace.Workspace:
        import mlflow

        ws = workspace.resolve(self._start)
        store.prepare(ws)
        workspace.export_tracking_uri(ws)
        mlflow.set_tracking_uri(ws.tracking_uri)
        mlflow.set_registry_uri(ws.tracking_uri)
        from nbstudio.tracking.reaper import reap_dead_kernel_runs

        reap_dead_kernel_runs(self.client(ws.tracking_uri))
        from nbstudio.resources.reopen import reopen

        reopen(ws.data_dir)
        return ws

    def client(self, tracking_uri: str | None = None) -> MlflowClient:
        from mlflow import MlflowClient

        uri = tracking_uri or self.workspace.tracking_uri
        return MlflowClient(tracking_uri=uri, registry_uri=uri)

    def default_experiment(self) -> str:
        """``%mlworkspace --experiment``, else the notebook's name, else ``notebook``."""
        if self.experiment_override:
            return self.experiment_override
        path = notebook_api_path()
        if path:
            return Path(path).stem or DEFAULT_EXPERIMENT
        return DEFAULT_EXPERIMENT

    def experiment_id(self, name: str | None = None) -> str:
        """The id of experiment ``name`` (default experiment if None), created if missing."""
        name = name or self.default_experiment()
        cached = self._experiment_ids.get(name)
        if cached:
            return cached
        from mlflow.exceptions import MlflowException
        from mlflow.utils.validation import MAX_EXPERIMENT_NAME_LENGTH

        if len(name) > MAX_EXPERIMENT_NAME_LENGTH:  # MLflow's own limit, said up front
            raise WorkspaceError(
                f"Experiment name {name[:30]!r}... is {len(name)} characters long; MLflow takes "
                f"at most {MAX_EXPERIMENT_NAME_LENGTH}."
            )

        client = self.client()
        found = client.get_experiment_by_name(name)
        if found is None:
            ws = self.workspace
            location = None
            if not ws.is_remote:
                location = (ws.artifact_root / f"{_slug(name)}-{uuid.uuid4().hex[:8]}").as_uri()
            try:
                experiment_id = client.create_experiment(name, artifact_location=location)
            except MlflowException:
                # Another process created it between our look-up and create.
                found = client.get_experiment_by_name(name)
                if found is None:
                    raise
                experiment_id = found.experiment_id
        elif found.lifecycle_stage == "deleted":
            raise WorkspaceError(
                f"Experiment {name!r} is deleted. Restore it in MLflow or choose another name."
            )
        else:
            experiment_id = found.experiment_id
        self._experiment_ids[name] = experiment_id
        return experiment_id


def _slug(name: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name).strip("-.")
    return keep or "experiment"


_session: Session | None = None
_session_lock = threading.Lock()


def get_session() -> Session:
    """The session of this process (created, not yet opened, on first call)."""
    global _session
    with _session_lock:
        if _session is None:
            _session = Session()
        return _session


def reset_session(start: Path | None = None) -> Session:
    """Forget the current session, e.g. to switch workspace; the next use opens ``start``."""
    global _session
    with _session_lock:
        _session = Session(start)
        return _session
