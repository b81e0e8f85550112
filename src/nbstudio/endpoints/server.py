"""An endpoint's own process: ``python -m nbstudio.endpoints.server FOLDER NAME``.

A Starlette app served by uvicorn on 127.0.0.1 that checks the key, picks a deployment by the
traffic weights (or the ``nbstudio-deployment`` header), passes the request body to that
deployment's worker process, records the request for the monitor and answers. It runs in its own
session, so it outlives the kernel (or console) that started it, and it supervises its workers: a
worker that dies is restarted while the other deployments keep answering.

It converges on ``endpoint.json`` (see `records`): it polls the file and, when its generation
changes, starts workers for new or changed deployments, health-checks them before any traffic
moves, applies traffic and keys, retires removed workers after their in-flight requests, and then
writes the generation it applied into ``status.json``. Commands wait for that number, so when
``%endpoint traffic`` returns, the new weights are in force.

Routes: ``POST /score`` and ``/invocations`` (the payloads of ``mlflow models serve``), ``GET
/health`` and ``/ping`` (no key needed, like a load balancer's probe), ``GET /metadata``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import json
import logging
import os
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from nbstudio.endpoints import protocol, telemetry
from nbstudio.endpoints.errors import EndpointError
from nbstudio.endpoints.records import (
    DRAINING,
    FAILED,
    LOADING,
    READY,
    RESTARTING,
    RUNNING,
    STARTING,
    STOPPED,
    DeploymentSpec,
    DeploymentStatus,
    EndpointSpec,
    EndpointStatus,
    Records,
    now_ms,
)
from nbstudio.endpoints.routing import MirrorCounter, WeightedRoundRobin
from nbstudio.endpoints.worker_pool import (
    Worker,
    WorkerFailed,
    WorkerGone,
    failure_reason,
    stop_forkserver,
    warm_up,
)

log = logging.getLogger("nbstudio.endpoints.server")

DEPLOYMENT_HEADERS = ("nbstudio-deployment", "azureml-model-deployment")
POLL_SECONDS = 0.1
FLUSH_SECONDS = 0.25
SUPERVISE_SECONDS = 0.2
MAX_BACKOFF = 30.0


def _error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    """Errors look like MLflow's own (``error_code`` + ``message``) so MLflow clients read them."""
    return JSONResponse({"error_code": code, "message": message}, status, headers=headers or None)


@dataclass
class Deployment:
    """A deployment inside the endpoint: the worker serving it and the one being started."""

    spec: DeploymentSpec
    status: DeploymentStatus
    worker: Worker | None = None
    loading: Worker | None = None
    task: asyncio.Task | None = None
    failed_revision: int | None = None
    restart_at: float | None = None
    backoff: float = 1.0
    retiring: list[Worker] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.worker is not None and not self.worker.retiring


class Endpoint:
    """The endpoint's state in its process: deployments, weights in force, key, recorder."""

    def __init__(self, records: Records, spec: EndpointSpec, port: int) -> None:
        self.records = records
        self.name = spec.name
        self.spec = spec
        self.port = port
        self.key = spec.key
        self.deployments: dict[str, Deployment] = {}
        self.traffic: dict[str, int] = {}
        self.mirror: dict[str, int] = {}
        self.router = WeightedRoundRobin({})
        self.mirror_to: str | None = None
        self.mirror_counter = MirrorCounter(0)
        self.recorder = telemetry.Recorder(records.monitoring_db, spec.name)
        self.applied_generation = 0
        self.state = STARTING
        self.started = now_ms()
        self.should_exit = False
        self._tasks: list[asyncio.Task] = []
        self._background: set[asyncio.Task] = set()
        self._spec_stamp: tuple[int, int] | None = None
        import psutil

        self.pid_started = psutil.Process().create_time()

    # -- status ------------------------------------------------------------------------------

    def write_status(self) -> None:
        me = os.getpid()
        deployments = {}
        for name, dep in self.deployments.items():
            dep.status.pid = dep.worker.pid if dep.worker else None
            deployments[name] = dep.status
        self.records.write_status(
            self.name,
            EndpointStatus(
                state=self.state,
                pid=me,
                pid_started=self.pid_started,
                port=self.port,
                generation=self.applied_generation,
                traffic=dict(self.traffic),
                mirror=dict(self.mirror),
                deployments=deployments,
                started=self.started,
            ),
        )

    # -- converging on the spec -------------------------------------------------------------

    def converge(self) -> None:
        """Bring the running deployments, traffic and key in line with the spec (no waiting)."""
        spec = self.spec
        self.key = spec.key
        for name in list(self.deployments):
            if name not in spec.deployments:
                self._remove(name)
        for name, dspec in spec.deployments.items():
            dep = self.deployments.get(name)
            if dep is None:
                dep = Deployment(dspec, DeploymentStatus(state=LOADING, revision=dspec.revision))
                self.deployments[name] = dep
                self._launch(dep, dspec)
                continue
            serving = dep.worker.revision if dep.worker else None
            loading = dep.loading.revision if dep.loading else None
            if dspec.revision == serving:
                dep.spec = dspec
                if dep.loading is not None:  # rolled back to what already serves
                    self._cancel_loading(dep)
            elif dspec.revision in (loading, dep.failed_revision):
                pass  # on its way, or tried and failed: a new deploy makes a new revision
            elif dep.restart_at is not None and dspec.revision == dep.spec.revision:
                pass  # crashed; `supervise` restarts it after its pause
            else:
                self._launch(dep, dspec)
        self._apply_traffic()
        if self._settled():
            self.applied_generation = spec.generation
        self.write_status()

    def _settled(self) -> bool:
        """Nothing is still loading: everything of the spec that could apply has applied."""
        return all(dep.loading is None for dep in self.deployments.values())

    def _cancel_loading(self, dep: Deployment) -> None:
        if dep.task is not None:
            dep.task.cancel()
        if dep.loading is not None:
            self._spawn_background(dep.loading.stop())
        dep.loading = None

    def _apply_traffic(self) -> None:
        """Move traffic only to deployments that are up (health-checked) right now."""
        want = {n: w for n, w in self.spec.traffic.items() if n in self.deployments}
        if want != self.traffic and all(
            self.deployments[n].ready for n, w in want.items() if w > 0
        ):
            self.traffic = want
            self.router = WeightedRoundRobin(want)
        mirror = {n: p for n, p in self.spec.mirror.items() if n in self.deployments and p > 0}
        if mirror != self.mirror and all(self.deployments[n].ready for n in mirror):
            self.mirror = mirror
            self.mirror_to = next(iter(mirror), None)
            self.mirror_counter = MirrorCounter(mirror.get(self.mirror_to, 0))

    def _launch(self, dep: Deployment, dspec: DeploymentSpec) -> None:
        self._cancel_loading(dep)
        log_path = self.records.deployment_log(self.name, dspec.name)
        collect = None
        if dspec.collect_inputs > 0:
            where = self.records.collected_dir(self.name, dspec.name)
            collect = (dspec.collect_inputs, str(where))
        worker = Worker(dspec.name, dspec.revision, dspec.source, log_path, collect)
        dep.loading = worker
        dep.restart_at = None
        if dep.worker is None:
            dep.status.state = LOADING if dep.status.state != RESTARTING else RESTARTING
        dep.task = asyncio.ensure_future(self._start(dep, dspec, worker))

    async def _start(self, dep: Deployment, dspec: DeploymentSpec, worker: Worker) -> None:
        dep.status.started = now_ms()
        self.write_status()
        try:
            await worker.start()
        except WorkerFailed as exc:
            log.warning("Deployment %s revision %s failed: %s", dspec.name, dspec.revision, exc)
            if dep.loading is worker:
                dep.loading = None
                dep.failed_revision = dspec.revision
                dep.status.error = str(exc)
                if dep.worker is None:
                    dep.status.state = FAILED
        except asyncio.CancelledError:
            return
        else:
            if dep.loading is not worker or self.deployments.get(dspec.name) is not dep:
                await worker.stop()  # superseded while loading
                return
            old, dep.worker, dep.loading = dep.worker, worker, None
            dep.spec = dspec
            dep.failed_revision = None
            dep.status = DeploymentStatus(
                state=READY,
                revision=dspec.revision,
                started=dep.status.started,
                ready_since=now_ms(),
                restarts=dep.status.restarts,
            )
            log.info("Deployment %s revision %s is ready", dspec.name, dspec.revision)
            if old is not None:
                self._retire(dep, old)
        self.converge()

    def _retire(self, dep: Deployment, worker: Worker) -> None:
        dep.retiring.append(worker)

        async def retire() -> None:
            await worker.retire()
            with contextlib.suppress(ValueError):
                dep.retiring.remove(worker)

        self._spawn_background(retire())

    def _remove(self, name: str) -> None:
        dep = self.deployments.pop(name)
        dep.status.state = DRAINING
        self._cancel_loading(dep)
        if dep.worker is not None:
            self._retire(dep, dep.worker)
        log.info("Deployment %s removed", name)

    def _spawn_background(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- background loops --------------------------------------------------------------------

    async def watch_spec(self) -> None:
        """Re-read the spec when the file changes; leave when it is gone or says stop."""
        path = self.records.spec_path(self.name)
        while not self.should_exit:
            try:
                st = path.stat()
                stamp = (st.st_mtime_ns, st.st_size)
            except FileNotFoundError:
                log.info("The endpoint was deleted; stopping.")
                self.should_exit = True
                return
            if stamp != self._spec_stamp:
                self._spec_stamp = stamp
                try:
                    spec = self.records.read_spec(self.name)
                except EndpointError as exc:
                    log.warning("%s", exc)
                    spec = None
                if spec is not None and spec.generation != self.spec.generation:
                    self.spec = spec
                    self.converge()
                if spec is not None and not spec.running:
                    self.should_exit = True
                    return
            await asyncio.sleep(POLL_SECONDS)

    async def supervise(self) -> None:
        """Notice workers that died and restart them (with a growing pause between tries)."""
        while not self.should_exit:
            now = time.monotonic()
            changed = False
            for name, dep in self.deployments.items():
                worker = dep.worker
                if worker is not None and worker.exited():
                    reason = failure_reason(worker.log, worker.proc.returncode)  # type: ignore[union-attr]
                    log.warning("Deployment %s worker died: %s", name, reason)
                    self.recorder.exception(
                        name, now_ms(), 502, "WorkerExited", f"The worker process died: {reason}"
                    )
                    dep.worker = None
                    dep.status.state = RESTARTING
                    dep.status.restarts += 1
                    dep.status.error = f"The worker process died ({reason}); restarting."
                    dep.restart_at = now + dep.backoff
                    dep.backoff = min(MAX_BACKOFF, dep.backoff * 2)
                    changed = True
                if dep.restart_at is not None and now >= dep.restart_at and dep.loading is None:
                    dep.restart_at = None
                    self._launch(dep, dep.spec)
                    changed = True
                ready_since = dep.status.ready_since
                if dep.worker is not None and ready_since and now_ms() - ready_since > 60_000:
                    dep.backoff = 1.0
            if changed:
                self.converge()
            await asyncio.sleep(SUPERVISE_SECONDS)

    async def flush(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                await asyncio.to_thread(self.recorder.flush)
            except Exception:
                log.exception("Cannot record monitoring figures")

    # -- lifecycle ---------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.state = RUNNING
        stamp = self.records.spec_path(self.name).stat()
        self._spec_stamp = (stamp.st_mtime_ns, stamp.st_size)
        self.converge()
        self._tasks = [
            asyncio.ensure_future(asyncio.to_thread(warm_up)),
            asyncio.ensure_future(self.watch_spec()),
            asyncio.ensure_future(self.supervise()),
            asyncio.ensure_future(self.flush()),
        ]
        log.info("Endpoint %s listening on http://127.0.0.1:%s", self.name, self.port)
        try:
            yield
        finally:
            await self.shutdown()

    async def shutdown(self) -> None:
        for task in self._tasks:
            task.cancel()
        workers = []
        for dep in self.deployments.values():
            if dep.task is not None:
                dep.task.cancel()
            workers += [w for w in (dep.worker, dep.loading, *dep.retiring) if w is not None]
        await asyncio.gather(*(w.stop() for w in workers), return_exceptions=True)
        for task in list(self._background):
            task.cancel()
        for worker in workers:
            worker.kill_now()
        stop_forkserver()
        self.recorder.close()
        self.state = STOPPED
        for dep in self.deployments.values():
            dep.worker = None
            dep.status.state = STOPPED
        status = self.records.read_status(self.name)
        if self.records.spec_path(self.name).is_file():
            self.records.write_status(
                self.name,
                EndpointStatus(
                    state=STOPPED,
                    port=self.port,
                    generation=status.generation if status else 0,
                    deployments={n: d.status for n, d in self.deployments.items()},
                ),
            )
        log.info("Endpoint %s stopped", self.name)

    # -- requests ----------------------------------------------------------------------------

    def authorized(self, request: Request) -> bool:
        """Whether the request carries the key; any malformed header is simply not the key."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        # compare_digest takes str of ASCII only: compare bytes, whatever the client sent.
        sent = token.strip().encode("utf-8", "replace")
        return scheme.lower() == "bearer" and hmac.compare_digest(sent, self.key.encode())

    async def read_body(self, request: Request) -> bytes | None:
        """The body, or None once it passes the endpoint's size limit (not read further)."""
        limit = self.spec.max_request_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return None
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def score(self, request: Request) -> Response:
        started = time.perf_counter()
        ts = now_ms()
        if not self.authorized(request):
            self.recorder.request(telemetry.ENDPOINT_ROW, ts, _ms(started), 401)
            return _error(
                401,
                "UNAUTHENTICATED",
                "Missing or wrong key: send the header 'Authorization: Bearer <key>' "
                f"(%endpoint key {self.name} shows the key).",
                **{"WWW-Authenticate": "Bearer"},
            )
        body = await self.read_body(request)
        if body is None:
            self.recorder.request(telemetry.ENDPOINT_ROW, ts, _ms(started), 413)
            limit = self.spec.max_request_bytes
            return _error(
                413,
                "REQUEST_LIMIT_EXCEEDED",
                f"The request body is larger than this endpoint's limit of {limit} bytes "
                f"(%endpoint create {self.name} --max-request-size sets it).",
            )
        content_type = request.headers.get("content-type")
        target = next((request.headers[h] for h in DEPLOYMENT_HEADERS if h in request.headers), "")
        if target:
            dep = self.deployments.get(target)
            if dep is None:
                self.recorder.request(telemetry.ENDPOINT_ROW, ts, _ms(started), 404)
                known = ", ".join(self.deployments) or "none"
                return _error(
                    404,
                    "RESOURCE_DOES_NOT_EXIST",
                    f"No deployment named {target!r} (deployments: {known}).",
                )
            name = target
        else:
            name = self.router.pick({n for n, d in self.deployments.items() if d.ready}) or ""
            dep = self.deployments.get(name)  # type: ignore[assignment]
        if dep is None or not dep.ready:
            return self._unavailable(name, ts, started)
        worker = dep.worker
        assert worker is not None
        status, meta, out = await self._call(name, worker, body, content_type, ts, started)
        if not target and self.mirror_to and self.mirror_to != name and self.mirror_counter():
            mirror = self.deployments.get(self.mirror_to)
            if mirror is not None and mirror.ready:
                self._spawn_background(self._mirror(self.mirror_to, mirror, body, content_type))
        return Response(
            out,
            status,
            media_type=meta.get("mimetype", "application/json"),
            headers={"nbstudio-deployment": name},
        )

    def _unavailable(self, name: str, ts: int, started: float) -> Response:
        if name:
            self.recorder.request(name, ts, _ms(started), 503)
            state = self.deployments[name].status.state if name in self.deployments else "gone"
            message = f"Deployment {name!r} is {state} and cannot answer now; try again shortly."
        else:
            self.recorder.request(telemetry.ENDPOINT_ROW, ts, _ms(started), 503)
            if not self.deployments:
                message = (
                    f"Endpoint {self.name!r} has no deployment yet: "
                    f"%endpoint deploy {self.name} blue MODEL_NAME@ALIAS"
                )
            elif not any(w > 0 for w in self.traffic.values()):
                message = (
                    f"No deployment of {self.name!r} takes traffic: set it with "
                    f"%endpoint traffic {self.name} DEPLOYMENT=100, or name one in the "
                    "nbstudio-deployment header."
                )
            else:
                message = f"No deployment of {self.name!r} is ready; try again shortly."
        return _error(503, "TEMPORARILY_UNAVAILABLE", message)

    async def _call(
        self,
        name: str,
        worker: Worker,
        body: bytes,
        content_type: str | None,
        ts: int,
        started: float,
        mirror: bool = False,
    ) -> tuple[int, dict[str, Any], bytes]:
        worker.inflight += 1
        timeout = self.spec.request_timeout
        try:
            status, meta, out = await asyncio.wait_for(
                worker.call(protocol.OP_SCORE, {"content_type": content_type}, body), timeout
            )
        except TimeoutError:
            message = (
                f"Deployment {name!r} did not answer within {timeout:g} s, this endpoint's "
                f"request timeout (%endpoint create {self.name} --request-timeout sets it)."
            )
            status, meta = 504, {"mimetype": "application/json", "error": {"message": message}}
            out = json.dumps({"error_code": "DEADLINE_EXCEEDED", "message": message}).encode()
        except WorkerGone as exc:
            message = (
                f"Deployment {name!r} stopped while answering (its worker process exited: {exc}); "
                f"see %endpoint logs {self.name} {name}."
            )
            status, meta = 502, {"mimetype": "application/json", "error": {"message": message}}
            out = json.dumps({"error_code": "BAD_GATEWAY", "message": message}).encode()
            self.recorder.exception(name, ts, 502, "WorkerExited", message)
        finally:
            worker.inflight -= 1
        self.recorder.request(name, ts, _ms(started), status, mirror)
        error = meta.get("error")
        if error and status >= 500 and status not in (502, 504):
            self.recorder.exception(
                name,
                ts,
                status,
                error.get("type", "Error"),
                error.get("message", ""),
                error.get("traceback"),
            )
        return status, meta, out

    async def _mirror(
        self, name: str, dep: Deployment, body: bytes, content_type: str | None
    ) -> None:
        worker = dep.worker
        if worker is None:
            return
        await self._call(name, worker, body, content_type, now_ms(), time.perf_counter(), True)

    async def health(self, request: Request) -> Response:
        states = {n: d.status.state for n, d in self.deployments.items()}
        healthy = all(self.deployments[n].ready for n, w in self.traffic.items() if w > 0)
        return JSONResponse(
            {
                "status": "healthy" if healthy else "degraded",
                "endpoint": self.name,
                "deployments": states,
                "traffic": self.traffic,
            },
            200 if healthy else 503,
        )

    async def metadata(self, request: Request) -> Response:
        if not self.authorized(request):
            return _error(401, "UNAUTHENTICATED", "Missing or wrong key.")
        deployments = {}
        for name, dep in self.deployments.items():
            info = dep.worker.info if dep.worker else {}
            deployments[name] = {
                "model": dep.spec.model,
                "model_uri": dep.spec.model_uri,
                "state": dep.status.state,
                "traffic": self.traffic.get(name, 0),
                "mirror": self.mirror.get(name, 0),
                "signature": info.get("signature"),
                "flavors": info.get("flavors"),
                "run_id": info.get("run_id"),
            }
        main = max(deployments, key=lambda n: self.traffic.get(n, 0), default=None)
        return JSONResponse(
            {
                "endpoint": self.name,
                "signature": deployments[main]["signature"] if main else None,
                "traffic": self.traffic,
                "mirror": self.mirror,
                "deployments": deployments,
            }
        )


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def build_app(endpoint: Endpoint) -> Starlette:
    return Starlette(
        routes=[
            Route("/score", endpoint.score, methods=["POST"]),
            Route("/invocations", endpoint.score, methods=["POST"]),
            Route("/health", endpoint.health, methods=["GET"]),
            Route("/ping", endpoint.health, methods=["GET"]),
            Route("/metadata", endpoint.metadata, methods=["GET"]),
        ],
        lifespan=endpoint.lifespan,
    )


def _bind(records: Records, spec: EndpointSpec) -> socket.socket:
    """The port asked for; else the one used last time (a stable URL); else any free one."""
    previous = records.read_status(spec.name)
    candidates = [spec.port] if spec.port else [previous.port if previous else None, 0]
    for port in candidates:
        if port is None:
            continue
        # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only on sockets whose proto says
        # TCP, and without it every keep-alive answer waits 40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            sock.close()
            if spec.port:
                raise EndpointError(
                    f"Port {port} is taken ({exc.strerror}); choose another with --port."
                ) from None
            continue
        sock.listen(2048)
        return sock
    raise EndpointError("No free port on 127.0.0.1.")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m nbstudio.endpoints.server")
    parser.add_argument("folder", type=Path, help="the workspace's endpoints folder")
    parser.add_argument("name", help="the endpoint to serve")
    args = parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    import uvicorn

    records = Records(args.folder)
    spec = records.spec(args.name)
    try:
        sock = _bind(records, spec)
    except EndpointError as exc:
        records.write_status(spec.name, EndpointStatus(state=FAILED, reason=str(exc)))
        log.error("FAILED: %s", exc)
        sys.exit(1)
    endpoint = Endpoint(records, spec, sock.getsockname()[1])
    config = uvicorn.Config(
        build_app(endpoint),
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=30,
        timeout_keep_alive=30,
    )
    server = uvicorn.Server(config)

    async def run() -> None:
        async def exit_when_asked() -> None:
            while not endpoint.should_exit:
                await asyncio.sleep(POLL_SECONDS)
            server.should_exit = True

        watcher = asyncio.ensure_future(exit_when_asked())
        await server.serve(sockets=[sock])
        watcher.cancel()

    asyncio.run(run())


if __name__ == "__main__":
    main()
