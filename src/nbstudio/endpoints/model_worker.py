"""One deployment's worker: `run`, in a process its endpoint forks (see `workers`).

It loads one MLflow model as a pyfunc and answers scoring frames (see `protocol`) on a socket its
endpoint process created and handed over, so a model that crashes, hangs or leaks takes down only
its own process: the endpoint keeps serving the other deployments and restarts this one.

Payloads are read by MLflow's own scoring server code (``mlflow.pyfunc.scoring_server``), so every
format ``mlflow models serve`` accepts (``dataframe_split``, ``dataframe_records``, ``instances``,
``inputs``, CSV, Parquet, ``params``) is accepted here and answered in the same shape. One
difference, on purpose: MLflow answers an exception raised by the model with 400, blaming the
input; here it is a 500 (the model failed) with the traceback recorded for the monitor, while
payloads MLflow cannot read or that break the model's signature stay 400.

Before it answers anything the worker makes one prediction on the model's saved input example, if
it has one: a model that loads but cannot predict fails its health check, and never gets traffic.
It exits by itself when its endpoint process disappears.

With ``collect_inputs`` above 0 the worker also samples the inputs its model scored successfully
(`collector`), written as Parquet from a background thread and once more on SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from nbstudio.endpoints import protocol
from nbstudio.endpoints.collector import Collector

log = logging.getLogger("nbstudio.endpoints.model_worker")

MAX_TRACEBACK = 20_000


class _Guarded:
    """The pyfunc model as MLflow's ``invocations`` sees it, noting whether predict itself raised.

    MLflow turns any exception from ``predict`` into a 400; remembering it lets the worker answer
    500 instead, and tell a broken model from a bad request.
    """

    def __init__(self, model: Any, collector: Collector | None = None) -> None:
        self._model = model
        self.metadata = model.metadata
        self.raised: tuple[BaseException, str] | None = None
        self._collector = collector

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        from mlflow.exceptions import MlflowException

        # Collection never raises: it cannot fail a request. Only successful requests are kept.
        sampled = self._collector.sample(data) if self._collector is not None else None
        try:
            result = self._model.predict(data, params=params)
        except MlflowException:
            raise  # schema enforcement and friends: the payload does not fit the signature
        except Exception as exc:
            self.raised = (exc, traceback.format_exc()[-MAX_TRACEBACK:])
            raise
        if sampled is not None:
            self._collector.keep(sampled)
        return result


def _error(status: int, code: str, message: str, **meta: Any) -> tuple[int, dict, bytes]:
    body = json.dumps({"error_code": code, "message": message}).encode()
    return status, {"mimetype": "application/json", "error": {"message": message, **meta}}, body


class Scorer:
    """Scores raw request bodies with one model, the way ``mlflow models serve`` does."""

    def __init__(
        self, model: Any, info: dict[str, Any], collector: Collector | None = None
    ) -> None:
        self.model = model
        self.schema = model.metadata.get_input_schema()
        self.info = info
        self.collector = collector

    def score(self, body: bytes, content_type: str | None) -> tuple[int, dict, bytes]:
        from mlflow.exceptions import MlflowException
        from mlflow.pyfunc import scoring_server

        content_type = content_type or scoring_server.CONTENT_TYPE_JSON
        data: Any = body
        if content_type.split(";", 1)[0].strip() == scoring_server.CONTENT_TYPE_JSON:
            # MLflow decodes a JSON body twice (once to sniff its format); decode it once here.
            # Invalid JSON stays bytes so that MLflow words the error as ``mlflow models serve``.
            try:
                data = json.loads(body)
            except (ValueError, UnicodeDecodeError):
                data = body
            except RecursionError:
                return _error(
                    400, "BAD_REQUEST", "Cannot read the request: JSON nested too deeply."
                )
            if not isinstance(data, dict):
                data = body
        guarded = _Guarded(self.model, self.collector)
        try:
            result = scoring_server.invocations(data, content_type, guarded, self.schema)
        except MlflowException as exc:
            if guarded.raised is not None:
                error, trace = guarded.raised
                message = f"The model raised {type(error).__name__}: {error}"
                log.error("%s\n%s", message, trace)
                return _error(
                    500, "INTERNAL_ERROR", message, type=type(error).__name__, traceback=trace
                )
            return _error(exc.get_http_status_code(), exc.error_code, _one_line(exc.message))
        except Exception as exc:  # pandas/numpy choking on a payload before the model runs
            return _error(400, "BAD_REQUEST", _one_line(f"Cannot read the request: {exc}"))
        if result.status >= 400:  # MLflow's own refusals: some plain text, some multi-line
            return _error(result.status, *_code_and_message(result.status, result.response))
        return result.status, {"mimetype": result.mimetype}, result.response.encode()


def _one_line(text: str, limit: int = 2000) -> str:
    """Error messages are one line (MLflow's embed DataFrame reprs and tracebacks)."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _code_and_message(status: int, response: str) -> tuple[str, str]:
    try:
        answer = json.loads(response)
    except ValueError:
        answer = None
    if isinstance(answer, dict) and isinstance(answer.get("message"), str):
        return str(answer.get("error_code") or "BAD_REQUEST"), _one_line(answer["message"])
    code = "UNSUPPORTED_MEDIA_TYPE" if status == 415 else "BAD_REQUEST"
    return code, _one_line(response)


def load(source: str) -> tuple[Any, dict[str, Any]]:
    """Load the model and say what it is (signature, flavors) for ``GET /metadata``."""
    import mlflow.artifacts
    import mlflow.pyfunc

    local = mlflow.artifacts.download_artifacts(artifact_uri=source)
    model = mlflow.pyfunc.load_model(local)
    meta = model.metadata
    signature = None
    if meta.signature is not None:
        signature = {
            key: json.loads(value) if isinstance(value, str) else value
            for key, value in meta.signature.to_dict().items()
        }
    info = {
        "signature": signature,
        "flavors": sorted(meta.flavors),
        "run_id": meta.run_id,
        "model_uuid": meta.model_uuid,
        "mlflow_version": meta.mlflow_version,
    }
    example = None
    try:
        example = meta.get_serving_input(local)
    except Exception as exc:  # an unreadable example is the model's problem, not a crash
        log.warning("Cannot read the model's input example: %s", exc)
    return model, {**info, "_example": example}


def check(scorer: Scorer, example: str | None) -> None:
    """Predict once on the model's own input example: the health check before any traffic."""
    if example is None:
        return
    status, meta, body = scorer.score(example.encode(), "application/json")
    if status != 200:
        message = (meta.get("error") or {}).get("message") or body.decode(errors="replace")
        raise RuntimeError(f"The model failed on its own input example (HTTP {status}): {message}")


def _exit(collector: Collector | None) -> None:
    if collector is not None:
        collector.close()
    os._exit(0)


async def _watch_parent(parent: int, collector: Collector | None) -> None:
    """Exit when the endpoint process is gone (its forkserver then exits, re-parenting us)."""
    forkserver = os.getppid()
    while True:
        await asyncio.sleep(1.0)
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            _exit(collector)
        if os.getppid() != forkserver:
            log.warning("The endpoint process is gone; exiting.")
            _exit(collector)


def _score_safely(scorer: Scorer, body: bytes, content_type: str | None) -> tuple[int, dict, bytes]:
    """Score, and answer a true 500 if scoring itself breaks: the worker stays up, so the
    endpoint never reports a worker exit that did not happen."""
    try:
        return scorer.score(body, content_type)
    except Exception as exc:
        message = f"The worker failed on this request: {type(exc).__name__}: {exc}"
        log.exception("%s", message)
        return _error(500, "INTERNAL_ERROR", " ".join(message.split()), type=type(exc).__name__)


async def serve(sock: socket.socket, scorer: Scorer, parent: int) -> None:
    health = {"status": "ready", "pid": os.getpid(), **scorer.info}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                op, meta, body = await protocol.read_request(reader)
                if op == protocol.OP_SCORE:
                    # Scored inline: the worker serves one model, CPU-bound, so threads would
                    # only add hand-offs; requests queue on their connections meanwhile.
                    started = time.perf_counter()
                    status, rmeta, out = _score_safely(scorer, body, meta.get("content_type"))
                    rmeta["ms"] = (time.perf_counter() - started) * 1000
                    protocol.write_response(writer, status, rmeta, out)
                elif op == protocol.OP_HEALTH:
                    protocol.write_response(writer, 200, health)
                else:
                    protocol.write_response(writer, 400, {"error": {"message": f"op {op}?"}})
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, protocol.ProtocolError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, sock=sock)
    if scorer.collector is not None:
        # A graceful stop (the endpoint retires or stops this worker) writes the sampled rows
        # still buffered; run in the event loop, so never while a request holds the buffer.
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, _exit, scorer.collector)
    watcher = asyncio.create_task(_watch_parent(parent, scorer.collector))
    log.info("Ready: answering on 127.0.0.1:%s", sock.getsockname()[1])
    async with server:
        await server.serve_forever()
    watcher.cancel()


def run(
    sock: socket.socket,
    source: str,
    parent: int,
    log_path: str,
    collect: tuple[float, str] | None = None,
) -> None:
    """The worker's life, in a process forked by the endpoint's forkserver: log to the
    deployment's log file, load and check the model, then serve frames on ``sock``.

    ``collect`` is (sampling rate, folder) when the deployment collects its inputs."""
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        force=True,
    )
    from nbstudio.tracking.mlflow_private import serving_environment_variable

    os.environ[serving_environment_variable()] = "true"
    started = time.perf_counter()
    log.info("Loading %s", source)
    try:
        model, info = load(source)
        example = info.pop("_example")
        scorer = Scorer(model, info)
        check(scorer, example)  # the health check's example is not a request: not collected
        if collect is not None and collect[0] > 0:
            scorer.collector = Collector(collect[0], Path(collect[1]))
            log.info("Collecting %g of the inputs in %s", collect[0], collect[1])
    except Exception as exc:
        log.exception("Cannot serve this model")
        # The endpoint shows this line as the deployment's error.
        first_line = str(exc).splitlines()[0] if str(exc) else ""
        log.error("FAILED: %s: %s", type(exc).__name__, first_line)
        sys.stderr.flush()
        os._exit(1)
    log.info("Loaded and checked in %.1f s", time.perf_counter() - started)
    asyncio.run(serve(sock, scorer, parent))
