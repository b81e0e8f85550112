"""A deployment's worker process as its endpoint process sees it: start, health-check, call, retire.

Workers are forked by a multiprocessing *forkserver* that has already imported MLflow, pandas and
scikit-learn (`PRELOAD`): importing those costs seconds of CPU, loading a small model a fraction
of one, so a rollout's new worker is ready about ten times sooner than a fresh interpreter would
be. The forkserver is a clean process of its own (not a fork of the endpoint's event loop), and
every worker is still a separate process: one bad model cannot take the others down.

The endpoint creates the worker's listening socket itself (127.0.0.1, a free port) and hands it
over, so the port is known before the worker runs and nothing races for it. The health check is a
frame sent straight away: it is answered once the model is loaded and has predicted on its input
example, and the worker counts as ready only then. Calls reuse a small pool of connections.

Retiring a worker (a rollout replaced it, or its deployment was deleted) first waits for its
in-flight requests to finish: changing traffic or deleting a deployment never fails a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import socket
import time
from pathlib import Path
from typing import Any

from nbstudio.endpoints import protocol

START_TIMEOUT = 300.0
DRAIN_TIMEOUT = 120.0
STOP_TIMEOUT = 5.0
# A worker scores one request at a time; a few connections keep it busy, and requests beyond
# them wait in the endpoint (cheap) instead of piling up unaccepted connections on the worker.
MAX_CONNECTIONS = 8
MAX_LOG_BYTES = 2_000_000
# Imported once by the forkserver; every worker starts with them (missing ones are skipped):
# MLflow's scoring code and the parts of scikit-learn that most teaching models unpickle.
PRELOAD = [
    "nbstudio.endpoints.model_worker",
    "mlflow.pyfunc.scoring_server",
    "mlflow.sklearn",
    "sklearn.pipeline",
    "sklearn.linear_model",
    "sklearn.preprocessing",
]

_context: Any = None


def forkserver() -> Any:
    """The multiprocessing context whose forkserver preloads `PRELOAD`."""
    global _context
    if _context is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        _context = context
    return _context


def warm_up() -> None:
    """Start the forkserver (and its imports) now, before the first deployment needs it."""
    import multiprocessing.forkserver

    forkserver()
    multiprocessing.forkserver.ensure_running()


def stop_forkserver() -> None:
    """End the forkserver and reap it (at the endpoint's exit, once its workers are gone)."""
    import multiprocessing.forkserver
    import signal

    server = multiprocessing.forkserver._forkserver
    pid = getattr(server, "_forkserver_pid", None)
    if pid is not None:
        # It reads its "parent gone" pipe only once its imports are done: do not wait for that.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    stop = getattr(server, "_stop", None)
    if stop is not None:
        stop()


class _Process:
    """A forked worker with the bits of `subprocess.Popen` the endpoint uses."""

    def __init__(self, process: Any) -> None:
        self._process = process
        self.pid = process.pid

    def poll(self) -> int | None:
        return self._process.exitcode

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def terminate(self) -> None:
        self._process.terminate()

    def kill(self) -> None:
        self._process.kill()

    def wait(self, timeout: float | None = None) -> int | None:
        self._process.join(timeout)
        return self._process.exitcode


class WorkerGone(Exception):
    """The worker closed the connection or died while answering."""


class WorkerFailed(Exception):
    """The worker could not load its model or failed its health check; the message says why."""


def failure_reason(log: Path, returncode: int | None) -> str:
    """The most telling line of a dead worker's log: its FAILED line, else its last line."""
    from nbstudio.endpoints.records import Records

    tail = Records(log.parent).tail(log, 60).splitlines()
    for line in reversed(tail):
        if "FAILED:" in line:
            return line.split("FAILED:", 1)[1].strip()
    for line in reversed(tail):
        if line.strip() and not line.startswith(" "):
            return f"{line.strip()} (exit code {returncode})"
    return f"the worker exited with code {returncode}"


class Worker:
    """One process serving one revision of one deployment."""

    def __init__(
        self,
        deployment: str,
        revision: int,
        source: str,
        log: Path,
        collect: tuple[float, str] | None = None,
    ) -> None:
        self.deployment = deployment
        self.collect = collect  # (sampling rate, folder) of its data collector, if on
        self.revision = revision
        self.source = source
        self.log = log
        self.proc: _Process | None = None
        self.port: int | None = None
        self.info: dict[str, Any] = {}
        self.inflight = 0
        self.retiring = False
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._slots: asyncio.Semaphore | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def exited(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    def _spawn(self) -> None:
        """Bind the socket and have the forkserver fork the worker (blocks while it preloads)."""
        from nbstudio.endpoints.model_worker import run

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        sock.listen(512)
        self.port = sock.getsockname()[1]
        self.log.parent.mkdir(parents=True, exist_ok=True)
        if self.log.is_file() and self.log.stat().st_size > MAX_LOG_BYTES:
            self.log.replace(self.log.with_suffix(".log.1"))
        with sock:
            with self.log.open("a") as out:
                out.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} revision {self.revision}\n")
            process = forkserver().Process(
                target=run,
                args=(sock, self.source, os.getpid(), str(self.log), self.collect),
                name=f"nbstudio-{self.deployment}",
                daemon=True,
            )
            process.start()
        # Our copy of the socket is closed: if the worker dies, connecting fails at once.
        self.proc = _Process(process)

    async def start(self, timeout: float = START_TIMEOUT) -> None:
        """Launch the worker and wait until it is loaded and healthy, or raise `WorkerFailed`."""
        spawning = asyncio.ensure_future(asyncio.to_thread(self._spawn))
        health: asyncio.Future | None = None
        deadline = time.monotonic() + timeout
        try:
            await asyncio.shield(spawning)
            health = asyncio.ensure_future(self.call(protocol.OP_HEALTH, None))
            while True:
                done, _ = await asyncio.wait({health}, timeout=0.1)
                if done and health.exception() is None:
                    status, meta, _body = health.result()
                    if status == 200:
                        self.info = meta
                        return
                    raise WorkerFailed(f"health check answered {status}")
                if self.exited() or done:
                    assert self.proc is not None
                    await asyncio.to_thread(self.proc.wait, 2.0)
                    raise WorkerFailed(failure_reason(self.log, self.proc.returncode))
                if time.monotonic() > deadline:
                    raise WorkerFailed(f"the model was not ready after {timeout:.0f} s")
        except BaseException:
            if health is not None:
                health.cancel()
            if not spawning.done():  # cancelled while forking: let the fork end, then stop it
                await asyncio.wait({spawning})
            await self.stop()
            raise

    async def call(self, op: int, meta: dict[str, Any] | None, body: bytes = b"") -> Any:
        """Send one frame and read the answer: ``(status, meta, body)``, or `WorkerGone`."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(MAX_CONNECTIONS)
        async with self._slots:
            return await self._call(op, meta, body)

    async def _call(self, op: int, meta: dict[str, Any] | None, body: bytes) -> Any:
        if self._idle:
            reader, writer = self._idle.pop()
        else:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError as exc:
                raise WorkerGone(str(exc)) from None
        try:
            protocol.write_request(writer, op, meta, body)
            await writer.drain()
            answer = await protocol.read_response(reader)
        except (OSError, asyncio.IncompleteReadError, protocol.ProtocolError) as exc:
            writer.close()
            raise WorkerGone(str(exc) or type(exc).__name__) from None
        except BaseException:  # cancelled mid-call: the connection's state is unknown
            writer.close()
            raise
        self._idle.append((reader, writer))
        return answer

    async def retire(self, timeout: float = DRAIN_TIMEOUT) -> None:
        """Let in-flight requests finish (no new ones come: it is out of routing), then stop."""
        self.retiring = True
        deadline = time.monotonic() + timeout
        while self.inflight and time.monotonic() < deadline and not self.exited():
            await asyncio.sleep(0.02)
        await self.stop()

    async def stop(self) -> None:
        """Terminate the process (SIGTERM, then SIGKILL) and reap it."""
        for _reader, writer in self._idle:
            writer.close()
        self._idle.clear()
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        while proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if proc.poll() is None:
            proc.kill()
            await asyncio.to_thread(proc.wait, STOP_TIMEOUT)

    def kill_now(self) -> None:
        """Synchronous last resort at exit: no worker outlives its endpoint."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT)
