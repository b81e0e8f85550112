"""Reading endpoints: what every view shows of one (`EndpointInfo`) and the table of all.

Read afresh from the workspace on every call: the endpoint folder and the monitoring file are the
only source of truth, so every view shows what the kernels, the console and the panel did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nbstudio.endpoints import telemetry
from nbstudio.endpoints.errors import EndpointError
from nbstudio.endpoints.records import (
    FAILED,
    KIND,
    READY,
    RUNNING,
    STOPPED,
    EndpointSpec,
    EndpointStatus,
    Records,
)
from nbstudio.resources import state, supervisor


def workspace() -> Any:
    """The session's workspace, without opening its MLflow store unless it is open already.

    Every command but ``deploy`` only touches files in the workspace folder; opening the store
    (importing MLflow, preparing SQLite) would make ``nbstudio endpoint traffic`` take seconds
    instead of a fraction of one. ``deploy`` opens it to look the model up.
    """
    from nbstudio.session import get_session

    return get_session().located_workspace()


def records() -> Records:
    """The records of the current workspace's endpoints."""
    return Records(workspace().data_dir / "endpoints")


# -- what an endpoint looks like ---------------------------------------------------------------


@dataclass
class DeploymentInfo:
    """One deployment as every view shows it. Metric fields come from `telemetry.summary`."""

    name: str
    model: str
    model_name: str
    model_version: str
    model_uri: str
    state: str
    traffic: int
    mirror: int
    pid: int | None = None
    error: str | None = None
    restarts: int = 0
    ready_since: int | None = None
    created: int | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    collect_inputs: float = 0.0


@dataclass
class EndpointInfo:
    """One endpoint: what was asked for (spec), what runs (status) and its figures."""

    name: str
    state: str
    url: str | None
    port: int | None
    pid: int | None
    reason: str | None
    description: str
    created: int
    traffic: dict[str, int]
    mirror: dict[str, int]
    deployments: list[DeploymentInfo]
    metrics: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)

    def deployments_frame(self) -> Any:
        import pandas as pd

        rows = []
        for d in self.deployments:
            latency = d.metrics.get("latency_ms") or {}
            model = f"{d.model_name}/{d.model_version}"
            rows.append(
                {
                    "deployment": d.name,
                    "model": model if d.model == model else f"{model} ({d.model})",
                    "state": d.state,
                    "traffic %": d.traffic,
                    "mirror %": d.mirror,
                    "requests": d.metrics.get("requests", 0),
                    "failures": d.metrics.get("failures", 0),
                    "req/s": d.metrics.get("rate", 0.0),
                    "p50 ms": latency.get("p50"),
                    "p95 ms": latency.get("p95"),
                    "collect inputs": d.collect_inputs,
                }
            )
        frame = pd.DataFrame(rows)
        if not any(d.collect_inputs for d in self.deployments):
            frame = frame.drop(columns="collect inputs")  # off everywhere: no column of zeros
        return frame

    def _header(self) -> list[str]:
        where = f" at {self.url}" if self.url and self.state == RUNNING else ""
        pid = f" (pid {self.pid})" if self.pid and self.state == RUNNING else ""
        lines = [f"Endpoint {self.name}: {self.state}{where}{pid}"]
        if self.reason:
            lines.append(f"  {self.reason}")
        for d in self.deployments:
            if d.error and d.state != READY:
                lines.append(f"  {d.name}: {d.error}")
        return lines

    def __repr__(self) -> str:
        lines = self._header()
        if self.deployments:
            table = self.deployments_frame().to_string(index=False, na_rep="-")
            lines += ["  " + line for line in table.splitlines()]
        else:
            lines.append(f"  No deployment yet: %endpoint deploy {self.name} blue MODEL@ALIAS")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        head = "<br>".join(html.escape(line) for line in self._header())
        table = (
            self.deployments_frame().to_html(index=False, na_rep="-", border=0)
            if self.deployments
            else ""
        )
        return f"<div><b>{head}</b>{table}</div>"


class Text(str):
    """A string a notebook shows as plain text (log lines), not as a quoted repr."""

    def __repr__(self) -> str:
        return str(self)


def alive(status: EndpointStatus | None) -> bool:
    """True if the recorded endpoint process still runs (not a zombie, not a reused pid)."""
    return status is not None and supervisor.alive(status.pid, status.pid_started)


def _state(spec: EndpointSpec, status: EndpointStatus | None) -> tuple[str, str | None]:
    if status is None:
        return STOPPED, None
    derived = state.derive(KIND, status.state, status.pid, status.pid_started)
    if derived.died:
        return FAILED, (
            f"The endpoint process ended unexpectedly; restart it with %endpoint start {spec.name}"
        )
    if derived.state in KIND.live:
        return derived.state, None
    if derived.state == FAILED:
        return FAILED, status.reason
    return STOPPED, None


def info(name: str, recs: Records | None = None, with_metrics: bool = True) -> EndpointInfo:
    """Everything about one endpoint, read afresh from the workspace."""
    recs = recs or records()
    spec = recs.spec(name)
    status = recs.read_status(name)
    state, reason = _state(spec, status)
    running = state == RUNNING
    figures = telemetry.summary(recs.monitoring_db, name) if with_metrics else {}
    deployments = []
    for dname, dspec in spec.deployments.items():
        dstatus = status.deployments.get(dname) if status else None
        if not running:
            dstate = STOPPED if state != FAILED else FAILED
        elif dstatus is None:
            dstate = "pending"
        else:
            dstate = dstatus.state
        deployments.append(
            DeploymentInfo(
                name=dname,
                model=dspec.model,
                model_name=dspec.model_name,
                model_version=dspec.model_version,
                model_uri=dspec.model_uri,
                state=dstate,
                traffic=spec.traffic.get(dname, 0),
                mirror=spec.mirror.get(dname, 0),
                pid=dstatus.pid if dstatus and running else None,
                error=dstatus.error if dstatus else None,
                restarts=dstatus.restarts if dstatus else 0,
                ready_since=dstatus.ready_since if dstatus and running else None,
                created=dspec.created,
                metrics=figures.get(dname, {}),
                collect_inputs=dspec.collect_inputs,
            )
        )
    live = [f for d, f in figures.items()]
    totals = {
        "requests": sum(f["requests"] for f in live),
        "failures": sum(f["failures"] for f in live),
        "client_errors": sum(f["client_errors"] for f in live),
        "rate": round(sum(f["rate"] for f in live), 3),
    }
    port = status.port if status else None
    return EndpointInfo(
        name=name,
        state=state,
        url=f"http://127.0.0.1:{port}/score" if port else None,
        port=port,
        pid=status.pid if status and running else None,
        reason=reason,
        description=spec.description,
        created=spec.created,
        traffic=dict(spec.traffic),
        mirror=dict(spec.mirror),
        deployments=deployments,
        metrics=totals,
    )


def table() -> Any:
    """Every endpoint of the workspace as a table (``%endpoint list``)."""
    import pandas as pd

    recs = records()
    rows = []
    for name in recs.names():
        try:
            ep = info(name, recs)
        except EndpointError:
            continue
        rows.append(
            {
                "endpoint": ep.name,
                "state": ep.state,
                "url": ep.url if ep.state == RUNNING else None,
                "traffic": ", ".join(f"{n} {p}%" for n, p in ep.traffic.items() if p) or "-",
                "mirror": ", ".join(f"{n} {p}%" for n, p in ep.mirror.items()) or "-",
                "deployments": ", ".join(f"{d.name} ({d.state})" for d in ep.deployments) or "-",
                "requests": ep.metrics["requests"],
                "failures": ep.metrics["failures"],
            }
        )
    columns = ["endpoint", "state", "url", "traffic", "mirror", "deployments", "requests"]
    return pd.DataFrame(rows, columns=[*columns, "failures"])
