"""The workspace's record of its endpoints: a resource kind (see `nbstudio.resources`).

``<workspace>/.nbstudio/endpoints/NAME/`` holds:

- ``endpoint.json``: what the user asked for (`EndpointSpec`: deployments, traffic, mirror, key),
  written by the commands (kernel, console, Jupyter server) under a file lock. Every write bumps
  ``generation`` so the endpoint process knows it has something to apply.
- ``status.json``: what the endpoint process is doing (`EndpointStatus`), written only by it (and
  by the launcher before the process exists and after it is gone). Its ``generation`` is the last
  spec generation fully applied, which is how a command knows its change is live.
- ``server.log`` and ``logs/DEPLOYMENT.log``: the output of the endpoint and of each deployment's
  worker, whose last lines explain a failure.

A deployment's sampled inputs (``collect_inputs``, see `collector`) are written beside, under
``<workspace>/.nbstudio/collected/NAME/DEPLOYMENT/model_inputs/``: outside the endpoint's folder,
so that deleting the endpoint keeps them.

Files rather than a database because three kinds of process read them; every write replaces the
file atomically, so a reader never sees half a file, and every change of the spec is a locked
read-modify-write. The key lives in the spec, which is therefore readable by its owner only.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbstudio import jsonfile
from nbstudio.endpoints.errors import EndpointError, UnknownEndpointError
from nbstudio.resources.kind import Kind
from nbstudio.resources.record import ProcessStatus, Record, known_fields, now_ms
from nbstudio.resources.records import ResourceRecords

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


@dataclass
class DeploymentSpec(Record):
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
    # Share of successful requests whose inputs are kept (0: off); see `collector`.
    collect_inputs: float = 0.0


@dataclass
class EndpointSpec(Record):
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
    # The sampling rate a new deployment collects its inputs at unless it is given its own.
    collect_inputs: float = 0.0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EndpointSpec:
        spec = cls(**known_fields(cls, data))
        spec.deployments = {
            name: DeploymentSpec.from_dict(d) for name, d in (data.get("deployments") or {}).items()
        }
        return spec


@dataclass
class DeploymentStatus(Record):
    """A deployment's worker as the endpoint process last saw it."""

    state: str = LOADING
    revision: int = 0
    pid: int | None = None
    error: str | None = None
    started: int | None = None
    ready_since: int | None = None
    restarts: int = 0


@dataclass
class EndpointStatus(ProcessStatus):
    """The endpoint process's live state. ``traffic``/``mirror`` are the weights in force."""

    port: int | None = None
    generation: int = 0
    traffic: dict[str, int] = field(default_factory=dict)
    mirror: dict[str, int] = field(default_factory=dict)
    deployments: dict[str, DeploymentStatus] = field(default_factory=dict)
    started: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EndpointStatus:
        status = cls(**known_fields(cls, data))
        status.deployments = {
            name: DeploymentStatus.from_dict(d)
            for name, d in (data.get("deployments") or {}).items()
        }
        return status


# An endpoint whose process died stays failed until the user starts it (restart policy NEVER);
# the endpoint process itself restarts a deployment's worker that dies.
KIND = Kind("endpoint", EndpointSpec, EndpointStatus, "nbstudio.endpoints.server")
# The spec holds the key (owner only); the server log is kept across restarts, up to 2 MB.
KIND = KIND.but(spec_file="endpoint.json", log_file="server.log", private_spec=True)
KIND = KIND.but(max_log_bytes=2_000_000)


class Records(ResourceRecords[EndpointSpec, EndpointStatus]):
    """Reads and writes the files of one workspace's endpoints folder."""

    kind = KIND

    @property
    def monitoring_db(self) -> Path:
        return self.folder / MONITORING_DB

    def endpoint_dir(self, name: str) -> Path:
        return self.record_dir(name)

    def server_log(self, name: str) -> Path:
        return self.log_path(name)

    @property
    def collected(self) -> Path:
        """The root of every endpoint's collected inputs (kept when an endpoint is deleted)."""
        return self.folder.parent / "collected"

    def collected_dir(self, name: str, deployment: str | None = None) -> Path:
        from nbstudio.endpoints.collector import folder

        return folder(self.collected, name, deployment)

    def deployment_log(self, name: str, deployment: str) -> Path:
        return self.record_dir(name) / "logs" / f"{deployment}.log"

    def _read(self, path: Path) -> dict[str, Any] | None:
        try:
            return jsonfile.read_json(path)
        except jsonfile.DamagedRecord as exc:
            if path.name == KIND.status_file:
                return None  # being replaced right now: treat as unknown, the next read succeeds
            raise EndpointError(f"{exc}; delete the endpoint and create it again.") from None

    def missing(self, name: str) -> Exception:
        known = ", ".join(self.names()) or "none yet"
        return UnknownEndpointError(
            f"No endpoint named {name!r} (endpoints: {known}). "
            f"Create it with: %endpoint create {name}"
        )

    def spec(self, name: str) -> EndpointSpec:
        """The spec of ``name``, or an error listing the endpoints that do exist."""
        check_name(name)
        spec = self.read_spec(name)
        if spec is None:
            raise self.missing(name)
        return spec

    def updating(self, name: str):  # type: ignore[override]
        check_name(name)
        return super().updating(name)
