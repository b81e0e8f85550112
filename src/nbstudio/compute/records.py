"""The workspace's record of its compute targets: one folder, plain JSON files, one writer each.

``<workspace>/.nbstudio/compute/`` holds, per target ``NAME``:

- ``NAME.json``: what the user asked for (`TargetSpec`), written by ``create``/``attach``/``scale``.
- ``NAME.status.json``: what the cluster is doing now (`ClusterStatus`), written by the cluster's
  own background process (and by the launcher before it starts and after it is gone).
- ``NAME.log``: the cluster process's output, whose last lines explain a failure.

Files rather than a database because the kernel, the Jupyter server and the cluster process all read
them and only one of them ever writes each file; every write replaces the file atomically.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from nbstudio.compute.errors import ComputeError
from nbstudio.jsonfile import DamagedRecord, read_json, write_json

LOCAL = "local"
CLUSTER = "cluster"
ATTACHED = "attached"

CREATING = "creating"
RUNNING = "running"
STOPPING = "stopping"
STOPPED = "stopped"
FAILED = "failed"

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")


def now_ms() -> int:
    return int(time.time() * 1000)


def check_name(name: str) -> str:
    """Names become file names and URL segments, so they are kept to letters, digits, - and _."""
    if not _NAME.match(name or ""):
        raise ComputeError(
            f"{name!r} is not a valid compute name: use a letter, then letters, digits, - or _ "
            "(at most 40 characters), e.g. cpu-cluster."
        )
    return name


@dataclass
class TargetSpec:
    """What the user asked for: a managed Dask cluster's size and policy, or a scheduler address."""

    name: str
    kind: str
    min_nodes: int = 0
    max_nodes: int = 2
    threads_per_node: int = 1
    memory_per_node: int = 4_000_000_000
    idle_seconds: float = 120.0
    address: str | None = None
    created: int = field(default_factory=now_ms)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TargetSpec:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class ClusterStatus:
    """A managed cluster's live state, as its background process last saw it."""

    state: str
    reason: str | None = None
    pid: int | None = None
    pid_started: float | None = None
    address: str | None = None
    dashboard_link: str | None = None
    nodes: int = 0
    starting_nodes: int = 0
    busy_nodes: int = 0
    cores: int = 0
    memory: int = 0
    tasks: int = 0
    queued: int = 0
    updated: int = field(default_factory=now_ms)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClusterStatus:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


class Records:
    """Reads and writes the files of one workspace's compute folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def spec_path(self, name: str) -> Path:
        return self.folder / f"{name}.json"

    def status_path(self, name: str) -> Path:
        return self.folder / f"{name}.status.json"

    def log_path(self, name: str) -> Path:
        return self.folder / f"{name}.log"

    def names(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(
            p.name.removesuffix(".json")
            for p in self.folder.glob("*.json")
            if not p.name.endswith(".status.json")
        )

    def read_spec(self, name: str) -> TargetSpec | None:
        data = _read_json(self.spec_path(name))
        return None if data is None else TargetSpec.from_dict(data)

    def write_spec(self, spec: TargetSpec) -> None:
        write_json(self.spec_path(spec.name), asdict(spec))

    def read_status(self, name: str) -> ClusterStatus | None:
        data = _read_json(self.status_path(name))
        return None if data is None else ClusterStatus.from_dict(data)

    def write_status(self, name: str, status: ClusterStatus) -> None:
        status.updated = now_ms()
        write_json(self.status_path(name), asdict(status))

    def log_tail(self, name: str, lines: int = 5) -> str:
        """The last lines of the cluster's log that look like an error, for a failure's reason."""
        try:
            text = self.log_path(name).read_text(errors="replace")
        except OSError:
            return ""
        kept = [line for line in text.splitlines() if line.strip()]
        errors = [line for line in kept if "Error" in line or "error" in line]
        return " | ".join((errors or kept)[-lines:])

    def delete(self, name: str) -> None:
        for path in (self.spec_path(name), self.status_path(name), self.log_path(name)):
            path.unlink(missing_ok=True)


def _read_json(path: Path) -> dict[str, Any] | None:
    """A damaged record counts as missing: the cluster process rewrites its status every
    second, and a spec can be created again."""
    try:
        return read_json(path)
    except DamagedRecord:
        return None
