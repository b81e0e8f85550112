"""The workspace's record of its compute targets: a resource kind (see `nbstudio.resources`).

``<workspace>/.nbstudio/compute/NAME/`` holds, per target:

- ``target.json``: what the user asked for (`TargetSpec`), changed by ``create``/``attach``/
  ``scale``/``start``/``stop`` under the record's lock (a read-modify-write: the kernel and the
  panel acting at once both keep their change).
- ``status.json``: what the cluster is doing now (`ClusterStatus`), written by the cluster's
  own background process (and by the launcher before it starts and after it is gone).
- ``cluster.log``: the cluster process's output, whose last lines explain a failure.

Workspaces of earlier versions kept ``NAME.json``, ``NAME.status.json`` and ``NAME.log`` flat in
``compute/``; they are moved into the folder the first time the records are read.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbstudio.compute.errors import ComputeError, UnknownTargetError
from nbstudio.jsonfile import DamagedRecord, read_json
from nbstudio.resources.kind import Kind
from nbstudio.resources.record import ProcessStatus, Record, now_ms
from nbstudio.resources.records import ResourceRecords

LOCAL = "local"
CLUSTER = "cluster"
ATTACHED = "attached"

CREATING = "creating"
RUNNING = "running"
STOPPING = "stopping"
STOPPED = "stopped"
FAILED = "failed"

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")


def check_name(name: str) -> str:
    """Names become file names and URL segments, so they are kept to letters, digits, - and _."""
    if not _NAME.match(name or ""):
        raise ComputeError(
            f"{name!r} is not a valid compute name: use a letter, then letters, digits, - or _ "
            "(at most 40 characters), e.g. cpu-cluster."
        )
    return name


@dataclass
class TargetSpec(Record):
    """What the user asked for: a managed Dask cluster's size and policy, or a scheduler address."""

    name: str
    kind: str
    min_nodes: int = 0
    max_nodes: int = 2
    threads_per_node: int = 1
    memory_per_node: int = 4_000_000_000
    idle_seconds: float = 120.0
    address: str | None = None
    running: bool = True  # what the user last asked: started (True) or stopped
    generation: int = 1  # bumped by every change, so two changes at once are both seen
    created: int = field(default_factory=now_ms)


@dataclass
class ClusterStatus(ProcessStatus):
    """A managed cluster's live state, as its background process last saw it."""

    address: str | None = None
    dashboard_link: str | None = None
    nodes: int = 0
    starting_nodes: int = 0
    busy_nodes: int = 0
    cores: int = 0
    memory: int = 0
    tasks: int = 0
    queued: int = 0


# A cluster's process writes "stopping" while it closes its workers; one that died stays failed
# until the user starts it again (restart policy NEVER).
KIND = Kind("compute", TargetSpec, ClusterStatus, "nbstudio.compute._cluster_process")
KIND = KIND.but(spec_file="target.json", log_file="cluster.log", starting=CREATING)
KIND = KIND.but(stopping=STOPPING, live=(CREATING, RUNNING, STOPPING))


class Records(ResourceRecords[TargetSpec, ClusterStatus]):
    """Reads and writes the records of one workspace's compute folder."""

    kind = KIND

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        _move_flat_records(folder)

    def missing(self, name: str) -> Exception:
        return UnknownTargetError(f"No compute target named {name!r}.")

    def _read(self, path: Path) -> dict[str, Any] | None:
        """A damaged record counts as missing: the cluster process rewrites its status every
        second, and a spec can be created again."""
        try:
            return read_json(path)
        except DamagedRecord:
            return None

    def log_tail(self, name: str, lines: int = 5) -> str:
        """The last lines of the cluster's log that look like an error, for a failure's reason."""
        kept = [line for line in self.tail(self.log_path(name), 200).splitlines() if line.strip()]
        errors = [line for line in kept if "Error" in line or "error" in line]
        return " | ".join((errors or kept)[-lines:])

    def delete(self, name: str) -> None:
        self.remove(name)


def _move_flat_records(folder: Path) -> None:
    """Move ``NAME.json``/``NAME.status.json``/``NAME.log`` of earlier versions into ``NAME/``."""
    if not folder.is_dir():
        return
    for spec in folder.glob("*.json"):
        if spec.name.endswith(".status.json") or not spec.is_file():
            continue
        name = spec.name.removesuffix(".json")
        target = folder / name
        target.mkdir(exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            (folder / f"{name}.status.json").replace(target / KIND.status_file)
        with contextlib.suppress(FileNotFoundError):
            (folder / f"{name}.log").replace(target / KIND.log_file)
        with contextlib.suppress(FileNotFoundError):
            spec.replace(target / KIND.spec_file)
