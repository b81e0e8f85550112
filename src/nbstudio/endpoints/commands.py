"""The endpoint commands every interface calls: magics, the console, the REST API, plain Python.

`run` is the one dispatcher of the verbs ``%endpoint`` and ``nbstudio endpoint`` share, with the
defaults in one place; the front ends only parse arguments and show the result. What an endpoint
looks like is read by `views`; scoring on one from Python is `scoring.invoke`.

Each command changes ``endpoint.json`` (see `records`) and, when the endpoint runs, waits until its
process reports the change applied, so that when a command returns its effect is live: a new
deployment answers, new weights are in force, the old key is refused. The endpoint process is
started with its own session so it outlives the kernel; ``stop``/``delete`` end it by its pid.

Example:
    >>> from nbstudio import endpoints
    >>> endpoints.create("iris")  # doctest: +SKIP
    >>> endpoints.deploy("iris", "blue", "iris@champion")  # doctest: +SKIP
    >>> endpoints.deploy("iris", "green", "iris/2", traffic=10)  # doctest: +SKIP
    >>> endpoints.invoke("iris", X_test.head())  # doctest: +SKIP
    array([0, 0, 1, 2, 1])
    >>> endpoints.set_traffic("iris", {"green": 100})  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Callable
from typing import Any

import psutil

from nbstudio.endpoints import telemetry
from nbstudio.endpoints.collector import check_rate
from nbstudio.endpoints.errors import EndpointError, UnknownEndpointError
from nbstudio.endpoints.records import (
    FAILED,
    KIND,
    READY,
    RUNNING,
    STOPPED,
    DeploymentSpec,
    EndpointSpec,
    EndpointStatus,
    Records,
    check_name,
    new_key,
    now_ms,
)
from nbstudio.endpoints.routing import check_mirror, check_traffic, share
from nbstudio.endpoints.views import EndpointInfo, Text, alive, info, records, table, workspace
from nbstudio.endpoints.worker_pool import START_TIMEOUT
from nbstudio.models.references import resolve_model
from nbstudio.resources import supervisor

SERVER_START_TIMEOUT = 60.0
APPLY_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
LOG_LINES = 100

Progress = Callable[[str], None]


# -- the endpoint process ----------------------------------------------------------------------


def _launch(recs: Records, spec: EndpointSpec) -> subprocess.Popen:
    ws = workspace()
    previous = recs.read_status(spec.name)
    # Written before the process exists (keeping the last port, which it tries to reuse), so
    # that the process's own first write always wins.
    recs.write_status(
        spec.name, EndpointStatus(state=KIND.starting, port=previous.port if previous else None)
    )
    env = {"MLFLOW_TRACKING_URI": ws.tracking_uri}
    if "MLFLOW_DISABLE_TELEMETRY" not in os.environ:
        env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    return supervisor.launch(
        KIND, recs.folder, spec.name, recs.server_log(spec.name), ws.root, env, append=True
    )


def _wait_applied(
    recs: Records,
    name: str,
    generation: int,
    timeout: float,
    proc: subprocess.Popen | None = None,
) -> EndpointStatus:
    """Wait until the endpoint process has applied spec ``generation`` (or died trying)."""
    deadline = time.monotonic() + timeout
    while True:
        status = recs.read_status(name)
        if status is not None:
            if status.state == FAILED:
                raise EndpointError(
                    f"Endpoint {name!r} cannot start: {status.reason or _server_tail(recs, name)}"
                )
            ours = proc is None or status.pid == proc.pid
            if ours and status.state == RUNNING and status.generation >= generation:
                return status
        if proc is not None and proc.poll() is not None:
            raise EndpointError(
                f"Endpoint {name!r} stopped while starting: {_server_tail(recs, name)}"
            )
        if proc is None and status is not None and status.pid and not alive(status):
            raise EndpointError(
                f"Endpoint {name!r} stopped unexpectedly: {_server_tail(recs, name)}"
            )
        if time.monotonic() > deadline:
            raise EndpointError(
                f"Endpoint {name!r} did not apply the change within {timeout:.0f} s "
                f"(see %endpoint logs {name})."
            )
        time.sleep(0.05)


def _server_tail(recs: Records, name: str) -> str:
    tail = recs.tail(recs.server_log(name), 20).splitlines()
    for line in reversed(tail):
        if "FAILED:" in line:
            return line.split("FAILED:", 1)[1].strip()
    return tail[-1].strip() if tail else "no output"


def _apply(recs: Records, spec: EndpointSpec, timeout: float) -> EndpointStatus | None:
    """Make the running endpoint apply ``spec`` (already written); start it if it should run."""
    status = recs.read_status(spec.name)
    if alive(status):
        return _wait_applied(recs, spec.name, spec.generation, timeout)
    if not spec.running:
        return None
    proc = _launch(recs, spec)
    return _wait_applied(recs, spec.name, spec.generation, timeout + SERVER_START_TIMEOUT, proc)


# -- commands ----------------------------------------------------------------------------------
MAX_REQUEST_TIMEOUT = 3600.0


def _request_limits(size: str | int | None, timeout: float | None) -> dict[str, Any]:
    """The spec fields for ``--max-request-size`` and ``--request-timeout``, checked."""
    from dask.utils import parse_bytes

    limits: dict[str, Any] = {}
    if size is not None:
        try:
            limits["max_request_bytes"] = int(parse_bytes(size))
        except (ValueError, TypeError, OverflowError):
            raise EndpointError(f"--max-request-size {size!r} is not a size, e.g. 20MB.") from None
        if not 1 <= limits["max_request_bytes"] <= 2**31:
            raise EndpointError(f"--max-request-size {size!r}: choose 1 byte to 2 GiB.")
    if timeout is not None:
        if not 0 < timeout <= MAX_REQUEST_TIMEOUT:  # also refuses nan
            raise EndpointError(
                f"--request-timeout {timeout}: choose 0 to {MAX_REQUEST_TIMEOUT:g} seconds."
            )
        limits["request_timeout"] = float(timeout)
    return limits


def create(
    name: str,
    port: int | None = None,
    description: str = "",
    max_request_size: str | int | None = None,
    request_timeout: float | None = None,
    collect_inputs: float | str | None = None,
) -> EndpointInfo:
    """Create endpoint ``name`` with a new key and start it (no deployment yet).

    ``max_request_size`` (bytes, or e.g. ``"20MB"``) and ``request_timeout`` (seconds) bound
    every request: a larger body is answered 413 unread, a slower answer 504.
    ``collect_inputs`` (0 to 1, default 0: off) is the share of successful requests whose
    inputs its deployments keep as Parquet (see `collector`), unless a deployment sets its own.
    """
    check_name(name)
    if port is not None and not 1024 <= port <= 65535:
        raise EndpointError(f"--port {port}: choose a port between 1024 and 65535.")
    limits = _request_limits(max_request_size, request_timeout)
    if collect_inputs is not None:
        limits["collect_inputs"] = check_rate(collect_inputs)
    recs = records()
    spec = EndpointSpec(name=name, port=port, description=description, **limits)
    recs.create(
        spec,
        EndpointError(
            f"Endpoint {name!r} already exists: %endpoint show {name}, or delete it first."
        ),
    )
    try:
        _apply(recs, spec, APPLY_TIMEOUT)
    except EndpointError:
        recs.remove(name)  # nothing of a half-created endpoint stays behind
        raise
    return info(name, recs)


def deploy(
    name: str,
    deployment: str,
    model: str,
    traffic: int | None = None,
    timeout: float = START_TIMEOUT,
    collect_inputs: float | str | None = None,
) -> EndpointInfo:
    """Deploy registered model ``model`` as ``deployment`` of endpoint ``name``.

    ``collect_inputs`` (0 to 1) is the share of its successful requests whose inputs are kept
    (default: the endpoint's ``collect_inputs``); read them with
    ``nbstudio.drift(model, current="endpoint:NAME")``.

    The new worker loads the model and passes its health check before any traffic moves to it;
    until then the other deployments keep serving. ``traffic`` gives it that percentage and scales
    the others to the rest; without it, the first deployment takes all traffic and later ones none
    (send them requests with the ``nbstudio-deployment`` header, then shift traffic). Deploying to
    an existing deployment replaces its model the same way, without dropping requests.

    If the model fails to load or to predict on its input example, traffic stays as it was and
    the error (with ``%endpoint logs``) is raised.
    """
    check_name(deployment, "deployment")
    rate = None if collect_inputs is None else check_rate(collect_inputs)
    recs = records()
    recs.spec(name)  # a clear error before looking the model up
    resolved = resolve_model(model)
    with recs.updating(name) as spec:
        before = spec.deployments.get(deployment)
        old_traffic, old_mirror = dict(spec.traffic), dict(spec.mirror)
        revision = max((d.revision for d in spec.deployments.values()), default=0) + 1
        spec.deployments[deployment] = DeploymentSpec(
            name=deployment,
            model=model,
            model_name=resolved.name,
            model_version=resolved.version,
            model_uri=resolved.uri,
            source=resolved.source,
            revision=revision,
            collect_inputs=spec.collect_inputs if rate is None else rate,
        )
        weights = {**spec.traffic, deployment: spec.traffic.get(deployment, 0)}
        if traffic is not None:
            weights = share(weights, deployment, traffic)
        elif not any(weights.values()):
            weights = share(weights, deployment, 100)
        spec.traffic = check_traffic(weights, spec.deployments)
        spec.mirror = check_mirror(spec.mirror, spec.traffic, spec.deployments)
        spec.running = True
    spec = recs.spec(name)
    status = _apply(recs, spec, timeout)
    dstatus = status.deployments.get(deployment) if status else None
    if dstatus is not None and dstatus.state == READY and dstatus.revision == revision:
        return info(name, recs)
    error = (dstatus.error if dstatus else None) or "it did not become ready"
    with recs.updating(name) as spec:
        if before is not None:
            spec.deployments[deployment] = before  # the previous model keeps serving
        spec.traffic = {n: old_traffic.get(n, 0) for n in spec.deployments}
        spec.mirror = {n: p for n, p in old_mirror.items() if n in spec.deployments}
    with contextlib.suppress(EndpointError):
        _apply(recs, recs.spec(name), APPLY_TIMEOUT)
    kept = ", ".join(f"{n}={p}" for n, p in old_traffic.items() if p) or "none"
    raise EndpointError(
        f"Deployment {deployment!r} of {name!r} failed: {error}. Traffic is unchanged ({kept}); "
        f"see %endpoint logs {name} {deployment}"
    )


def set_traffic(
    name: str,
    traffic: dict[str, int] | None = None,
    mirror: dict[str, int] | None = None,
    timeout: float = APPLY_TIMEOUT,
) -> EndpointInfo:
    """Set live traffic (percentages adding up to 100; unnamed deployments get 0) and/or the
    mirror percentage. Returns once the endpoint routes by the new weights.

    Traffic only moves to deployments that are ready; in-flight requests finish where they are.
    """
    recs = records()
    recs.spec(name)
    status = recs.read_status(name)
    if traffic:
        for dname, percent in traffic.items():
            dstatus = status.deployments.get(dname) if status and alive(status) else None
            if percent > 0 and dstatus is not None and dstatus.state == FAILED:
                raise EndpointError(
                    f"Deployment {dname!r} failed ({dstatus.error}); deploy it again before "
                    "giving it traffic."
                )
    with recs.updating(name) as spec:
        if traffic is not None and traffic:
            spec.traffic = check_traffic(traffic, spec.deployments)
        if mirror is not None:
            spec.mirror = check_mirror(mirror, spec.traffic, spec.deployments)
        else:
            spec.mirror = check_mirror(spec.mirror, spec.traffic, spec.deployments)
    spec = recs.spec(name)
    _apply(recs, spec, timeout)
    return info(name, recs)


def show(name: str) -> EndpointInfo:
    """One endpoint: URL, state, deployments with model, state, traffic and figures."""
    return info(name)


def get_key(name: str, regenerate: bool = False) -> str:
    """The endpoint's key; ``regenerate`` makes a new one (the old one is refused on return)."""
    recs = records()
    if not regenerate:
        return recs.spec(name).key
    with recs.updating(name) as spec:
        spec.key = new_key()
    spec = recs.spec(name)
    if alive(recs.read_status(name)):
        _apply(recs, spec, APPLY_TIMEOUT)
    return spec.key


def logs(name: str, deployment: str | None = None, tail: int = LOG_LINES) -> Text:
    """The last lines of a deployment's worker log (or of the endpoint process's own log)."""
    recs = records()
    spec = recs.spec(name)
    if deployment is None:
        path = recs.server_log(name)
    else:
        if deployment not in spec.deployments:
            known = ", ".join(spec.deployments) or "none"
            raise UnknownEndpointError(
                f"No deployment {deployment!r} in {name!r} (deployments: {known})."
            )
        path = recs.deployment_log(name, deployment)
    text = recs.tail(path, tail)
    return Text(text or f"({path.name} is empty)")


def start(name: str, timeout: float = START_TIMEOUT) -> EndpointInfo:
    """Start a stopped endpoint; returns once every deployment has loaded (or failed)."""
    recs = records()
    with recs.updating(name) as spec:
        spec.running = True
    _apply(recs, recs.spec(name), timeout)
    return info(name, recs)


def stop(name: str, timeout: float = STOP_TIMEOUT) -> EndpointInfo:
    """Stop the endpoint's process and workers; its spec, key and figures stay."""
    recs = records()
    with recs.updating(name) as spec:
        spec.running = False
    status = recs.read_status(name)
    if alive(status):
        assert status is not None
        assert status.pid is not None
        supervisor.stop(status.pid, status.pid_started, timeout)
    status = recs.read_status(name)
    if status is None or status.state != STOPPED:
        recs.write_status(
            name,
            EndpointStatus(
                state=STOPPED,
                port=status.port if status else None,
                generation=status.generation if status else 0,
            ),
        )
    return info(name, recs)


def delete(name: str, deployment: str | None = None, timeout: float = STOP_TIMEOUT) -> Text:
    """Delete a deployment (it must take no traffic), or the whole endpoint with its figures."""
    recs = records()
    if deployment is None:
        recs.spec(name)
        stop(name, timeout)
        telemetry.forget(recs.monitoring_db, name)
        recs.remove(name)
        kept = recs.collected_dir(name)
        if kept.is_dir():  # like Azure's collected blobs, sampled inputs outlive the endpoint
            return Text(f"Deleted endpoint {name!r}; its collected inputs are kept in {kept}.")
        return Text(f"Deleted endpoint {name!r}.")
    status = recs.read_status(name)
    with recs.updating(name) as spec:
        if deployment not in spec.deployments:
            known = ", ".join(spec.deployments) or "none"
            raise UnknownEndpointError(
                f"No deployment {deployment!r} in {name!r} (deployments: {known})."
            )
        if spec.traffic.get(deployment, 0) or spec.mirror.get(deployment, 0):
            others = [n for n in spec.deployments if n != deployment]
            hint = f" {others[0]}=100" if others else ""
            raise EndpointError(
                f"{deployment!r} still takes traffic; move it first: %endpoint traffic {name}{hint}"
            )
        del spec.deployments[deployment]
        spec.traffic.pop(deployment, None)
        spec.mirror.pop(deployment, None)
    if alive(status):
        old = status.deployments.get(deployment) if status else None
        _apply(recs, recs.spec(name), APPLY_TIMEOUT)
        if old is not None and old.pid:
            # The endpoint lets in-flight requests finish before it ends the worker.
            with contextlib.suppress(psutil.Error):
                psutil.Process(old.pid).wait(timeout)
    return Text(f"Deleted deployment {deployment!r} of {name!r}.")


def metrics(name: str, window_s: int = 300, points: int = 60) -> dict[str, Any]:
    """The monitor's data: per-deployment figures, chart series and the last exceptions."""
    recs = records()
    recs.spec(name)
    db = recs.monitoring_db
    return {
        "endpoint": name,
        "updated": now_ms(),
        "summary": telemetry.summary(db, name),
        "series": telemetry.series(db, name, window_s=window_s, points=points),
        "exceptions": telemetry.exceptions(db, name),
    }


# -- the verbs of %endpoint and nbstudio endpoint ----------------------------------------------
VERBS = (
    "create", "deploy", "traffic", "list", "show", "invoke", "logs", "key", "stop", "start",
    "delete", "monitor",
)  # fmt: skip


def run(verb: str, name: str | None = None, **options: Any) -> Any:
    """Do ``verb`` with the options a front end parsed (None: the default) and return its result.

    ``traffic`` takes ``weights``/``mirror`` as ``DEPLOYMENT=PERCENT`` words (none: show the
    endpoint); ``invoke`` takes ``data`` (what `invoke` takes); ``monitor`` returns `metrics`;
    ``list`` the table; ``key`` the key as `Text`.
    """
    from nbstudio.endpoints.routing import parse_weights

    given = {k: v for k, v in options.items() if v is not None}
    if verb == "list":
        return table()
    if not name:
        raise EndpointError(f"{verb} needs the name of an endpoint, e.g. {verb} iris.")
    match verb:
        case "create":
            keys = ("port", "description", "max_request_size", "request_timeout")
            keys += ("collect_inputs",)
            return create(name, **{k: given[k] for k in keys if k in given})
        case "deploy":
            timeout = given.get("timeout", START_TIMEOUT)
            return deploy(
                name,
                given["deployment"],
                given["model"],
                given.get("traffic"),
                timeout,
                collect_inputs=given.get("collect_inputs"),
            )
        case "traffic":
            weights = parse_weights(given["weights"]) if given.get("weights") else None
            mirror = parse_weights(given["mirror"], "--mirror") if given.get("mirror") else None
            if weights is None and mirror is None:
                return show(name)
            return set_traffic(name, weights, mirror)
        case "show" | "start" | "stop":
            return {"show": show, "start": start, "stop": stop}[verb](name)
        case "invoke":
            from nbstudio.endpoints.scoring import invoke

            return invoke(name, given["data"], deployment=given.get("deployment"))
        case "logs":
            return logs(name, given.get("deployment"), tail=given.get("tail", LOG_LINES))
        case "key":
            return Text(get_key(name, regenerate=bool(given.get("regenerate"))))
        case "delete":
            return delete(name, given.get("deployment"))
        case "monitor":
            return metrics(name)
    raise EndpointError(f"Unknown command {verb!r}: use one of {', '.join(VERBS)}.")
