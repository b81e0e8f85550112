"""The workspace's record of its endpoints: one folder per endpoint, plain JSON, one writer each.

``<workspace>/.nbstudio/endpoints/NAME/`` holds:

- ``endpoint.json``: what the user asked for (`EndpointSpec`: deployments, traffic, mirror, key),
  written by the commands (kernel, console, Jupyter server) under a file lock. Every write bumps
  ``generation`` so the endpoint process knows it has something to apply.
- ``status.json``: what the endpoint process is doing (`EndpointStatus`), written only by it (and
  by the launcher before the process exists and after it is gone). Its ``generation`` is the last
  spec generation fully applied, which is how a command knows its change is live.
- ``server.log`` and ``logs/DEPLOYMENT.log``: the output of the endpoint and of each deployment's
  worker, whose last lines explain a failure.

Files rather than a database because three kinds of process read them and only one writes each;
every write replaces the file atomically, so a reader never sees half a file. The key lives in the
spec, which is therefore readable by its owner only.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from nbstudio import jsonfile
from nbstudio.endpoints.errors import EndpointError, UnknownEndpointError
from nbstudio.jsonfile import write_json
from nbstudio.processes import exclusive_lock

# Endpoint states, as the status file and every view show them.
STARTING = "starting"
RUNNING = "running"
STOPPING = "stopping"
STOPPED = "stopped"
FAILED = "failed"

# Deployment states.
LOADING = "loading"
READY = "ready"
DRAINING = "draining"
RESTARTING = "restarting"

# Like common model-serving defaults (e.g. 20 MB bodies); both are per endpoint in its spec.
DEFAULT_MAX_REQUEST_BYTES = 20 * 1024 * 1024
DEFAULT_REQUEST_TIMEOUT = 60.0

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")
MONITORING_DB = "monitoring.db"


def now_ms() -> int:
    return int(time.time() * 1000)


def check_name(name: str, what: str = "endpoint") -> str:
    """Names become folder names, URL parts and HTTP header values: keep them plain."""
    if not _NAME.match(name or ""):
        raise EndpointError(
            f"{name!r} is not a valid {what} name: use a letter, then letters, digits, - or _ "
            "(at most 32 characters), e.g. iris or blue."
        )
    return name


def new_key() -> str:
    return secrets.token_urlsafe(32)


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


@dataclass
class DeploymentSpec:
    """One deployment: a registered model version pinned at deploy time.

    ``model`` is what the user typed (``iris@champion``); ``model_uri`` the version it resolved to
    (``models:/iris/3``), so moving the alias later does not silently change what is served; and
    ``source`` the artifact location the worker loads, so workers never touch the registry.
    ``revision`` changes whenever the model does: the endpoint then rolls out a new worker.
    """

    name: str
    model: str
    model_name: str
    model_version: str
    model_uri: str
    source: str
    revision: int = 1
    created: int = field(default_factory=now_ms)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeploymentSpec:
        return cls(**_known(cls, data))


@dataclass
class EndpointSpec:
    """What the user asked for. ``traffic`` and ``mirror`` are percentages by deployment name."""

    name: str
    key: str = field(default_factory=new_key)
    port: int | None = None
    description: str = ""
    running: bool = True
    generation: int = 1
    created: int = field(default_factory=now_ms)
    deployments: dict[str, DeploymentSpec] = field(default_factory=dict)
    traffic: dict[str, int] = field(default_factory=dict)
    mirror: dict[str, int] = field(default_factory=dict)
    # A larger body is refused with 413 before it is read whole; a slower answer gets 504.
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EndpointSpec:
        spec = cls(**_known(cls, data))
        spec.deployments = {
            name: DeploymentSpec.from_dict(d) for name, d in (data.get("deployments") or {}).items()
        }
        return spec

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DeploymentStatus:
    """A deployment's worker as the endpoint process last saw it."""

    state: str = LOADING
    revision: int = 0
    pid: int | None = None
    error: str | None = None
    started: int | None = None
    ready_since: int | None = None
    restarts: int = 0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeploymentStatus:
        return cls(**_known(cls, data))


@dataclass
class EndpointStatus:
    """The endpoint process's live state. ``traffic``/``mirror`` are the weights in force."""

    state: str
    pid: int | None = None
    pid_started: float | None = None
    port: int | None = None
    generation: int = 0
    reason: str | None = None
    traffic: dict[str, int] = field(default_factory=dict)
    mirror: dict[str, int] = field(default_factory=dict)
    deployments: dict[str, DeploymentStatus] = field(default_factory=dict)
    started: int | None = None
    updated: int = field(default_factory=now_ms)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EndpointStatus:
        status = cls(**_known(cls, data))
        status.deployments = {
            name: DeploymentStatus.from_dict(d)
            for name, d in (data.get("deployments") or {}).items()
        }
        return status

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        return jsonfile.read_json(path)
    except jsonfile.DamagedRecord as exc:
        raise EndpointError(f"{exc}; delete the endpoint and create it again.") from None


class Records:
    """Reads and writes the files of one workspace's endpoints folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def monitoring_db(self) -> Path:
        return self.folder / MONITORING_DB

    def endpoint_dir(self, name: str) -> Path:
        return self.folder / name

    def spec_path(self, name: str) -> Path:
        return self.endpoint_dir(name) / "endpoint.json"

    def status_path(self, name: str) -> Path:
        return self.endpoint_dir(name) / "status.json"

    def server_log(self, name: str) -> Path:
        return self.endpoint_dir(name) / "server.log"

    def deployment_log(self, name: str, deployment: str) -> Path:
        return self.endpoint_dir(name) / "logs" / f"{deployment}.log"

    def names(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(p.parent.name for p in self.folder.glob("*/endpoint.json"))

    def exists(self, name: str) -> bool:
        return self.spec_path(name).is_file()

    def read_spec(self, name: str) -> EndpointSpec | None:
        data = read_json(self.spec_path(name))
        return None if data is None else EndpointSpec.from_dict(data)

    def spec(self, name: str) -> EndpointSpec:
        """The spec of ``name``, or an error listing the endpoints that do exist."""
        check_name(name)
        spec = self.read_spec(name)
        if spec is None:
            known = ", ".join(self.names()) or "none yet"
            raise UnknownEndpointError(
                f"No endpoint named {name!r} (endpoints: {known}). "
                f"Create it with: %endpoint create {name}"
            )
        return spec

    def write_spec(self, spec: EndpointSpec) -> None:
        write_json(self.spec_path(spec.name), spec.to_dict(), private=True)

    @contextlib.contextmanager
    def locked(self, name: str) -> Iterator[None]:
        """Serialise read-modify-write of one endpoint's spec across processes."""
        with exclusive_lock(self.endpoint_dir(name) / ".lock"):
            yield

    @contextlib.contextmanager
    def updating(self, name: str) -> Iterator[EndpointSpec]:
        """Read the spec under the lock, let the caller change it, write it as a new generation."""
        self.spec(name)  # an unknown endpoint is an error before its folder (and lock) exists
        with self.locked(name):
            spec = self.spec(name)
            yield spec
            spec.generation += 1
            self.write_spec(spec)

    def read_status(self, name: str) -> EndpointStatus | None:
        try:
            data = read_json(self.status_path(name))
        except EndpointError:
            return None  # being replaced right now: treat as unknown, the next read succeeds
        return None if data is None else EndpointStatus.from_dict(data)

    def write_status(self, name: str, status: EndpointStatus) -> None:
        status.updated = now_ms()
        write_json(self.status_path(name), status.to_dict())

    def remove(self, name: str) -> None:
        shutil.rmtree(self.endpoint_dir(name), ignore_errors=True)

    def tail(self, path: Path, lines: int = 40) -> str:
        """The last ``lines`` lines of a log file ('' if it does not exist)."""
        try:
            with path.open("rb") as fh:
                fh.seek(0, os.SEEK_END)
                size = fh.tell()
                fh.seek(max(0, size - 64 * 1024))
                text = fh.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])
