"""The life of a tracked run: start, record what the code did, and always end with the right state.

`TrackedRun` wraps any block of code (a notebook cell, a sweep trial, a cell shipped to a Dask
worker) as an MLflow run. Whatever happens in the block, the run ends FINISHED, FAILED (traceback
saved as ``error.txt``) or KILLED, never RUNNING, and the exception goes on to the caller
unchanged.

Inside the block, the run's ``mlflow.log_metric`` calls are kept in memory and written in batches
and its params and tags go to MLflow's asynchronous queue (both routed by the one hook on MLflow's
functions, `tracking.hook`, for this thread only); everything is written before the run is
ended, and what the store refuses ends the run FAILED.
"""

from __future__ import annotations

import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import mlflow
from mlflow.entities import RunStatus
from mlflow.exceptions import MlflowException
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from nbstudio.errors import RunError
from nbstudio.session import Session, get_session
from nbstudio.tracking import context, environment, flaml_defaults, hook, trusted_models
from nbstudio.tracking.capture import OutputTee
from nbstudio.tracking.refused import RefusedData
from nbstudio.tracking.result import RunResult

#: Seconds between samples of a run's system metrics (``--system-metrics``).
SYSTEM_METRICS_INTERVAL = 2


class RunTerminated(BaseException):
    """Raised inside a run's code to stop it early (e.g. by a sweep's early-termination policy).

    A BaseException, so a user's ``except Exception`` in the trial body does not swallow it. The run
    ends KILLED with ``nbstudio.terminated_by=<reason>``.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"run terminated by {reason}")
        self.reason = reason


@dataclass
class RunSpec:
    """What to record about a run before its code starts."""

    name: str | None = None
    experiment: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    nested: bool = False
    parent_run_id: str | None = None
    autolog: bool = False
    capture_output: bool = True
    # One run of a series whose parent records what they share (sweep trials): no requirements.txt
    # or cell.py of its own, outputs/log.txt only if it printed something, and the result is not
    # read back from the store. A quiet trial then costs no artifact write and one query less.
    lean: bool = False
    # An existing run to continue instead of creating one: its creator (e.g. the kernel that ships
    # a cell to a Dask worker, so it can show the run's monitor at once) has set its experiment,
    # name, tags and parent; this process logs the params and becomes the run's owner.
    run_id: str | None = None
    # MLflow's own system metrics (CPU, memory, GPU where present) as ``system/*`` metrics of the
    # run; None takes the workspace's default (``system_metrics = true`` in nbstudio.toml).
    system_metrics: bool | None = None


def _status_for(exc: BaseException | None) -> str:
    if exc is None:
        return RunStatus.to_string(RunStatus.FINISHED)
    if isinstance(exc, KeyboardInterrupt | RunTerminated):
        return RunStatus.to_string(RunStatus.KILLED)
    return RunStatus.to_string(RunStatus.FAILED)


def _internal_frame(tb: TracebackType) -> bool:
    name = tb.tb_frame.f_globals.get("__name__", "")
    return name.startswith(("nbstudio.", "IPython.", "ipykernel.", "contextlib"))


def user_traceback(exc: BaseException) -> str:
    """The traceback as the user would see it: leading frames of nbstudio and IPython dropped."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None and _internal_frame(tb):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


class TrackedRun:
    """Context manager recording a block of code as one MLflow run.

    Example:
        >>> from nbstudio.tracking import RunSpec, TrackedRun
        >>> with TrackedRun(RunSpec(name="demo", params={"alpha": 0.5})) as run:  # doctest: +SKIP
        ...     mlflow.log_metric("loss", 0.1)
        >>> run.result.status  # doctest: +SKIP
        'FINISHED'
    """

    def __init__(self, spec: RunSpec, session: Session | None = None) -> None:
        self.spec = spec
        self.session = session or get_session()
        self.run_id: str | None = None
        self.result: RunResult | None = None
        self._tee: OutputTee | None = None
        self._saved_async: str | None = None
        self._saved_buffer: str | None = None
        self._started = 0.0
        self._parent: str | None = None
        self._artifact_uri: str | None = None
        self._experiment_id = ""
        self._refused: RefusedData | None = None
        self._sink: hook.RunSink | None = None
        self._trusting = False  # trusted_models/flaml_defaults entered: left once at the end

    # -- start ---------------------------------------------------------------------------------
    def __enter__(self) -> TrackedRun:
        if self.spec.run_id:
            return self._begin(self._adopt())
        ws = self.session.workspace
        experiment_id = self._experiment_id = self.session.experiment_id(self.spec.experiment)
        parent = self._parent = self._parent_run_id()
        tags = {
            **context.owner_tags(),
            **context.source_tags(ws.root),
            **{k: str(v) for k, v in self.spec.tags.items()},
        }
        # A parent named in the spec comes from code that has just created it (a sweep, a cell
        # shipped to compute): naming it by MLflow's own tag spares MLflow a read of that run.
        vouched = parent is not None and parent == self.spec.parent_run_id
        if vouched and mlflow.active_run() is None:
            tags[MLFLOW_PARENT_RUN_ID] = parent
            parent_arg = None
        else:
            parent_arg = parent
        try:
            active = mlflow.start_run(
                experiment_id=experiment_id,
                run_name=self.spec.name,
                nested=parent_arg is not None,
                parent_run_id=parent_arg,
                tags=tags,
                log_system_metrics=self._system_metrics(ws.config),
            )
        except MlflowException as exc:
            raise RunError(f"Cannot start the run: {exc.message}") from None
        return self._begin(active)

    def _begin(self, active: mlflow.ActiveRun) -> TrackedRun:
        """What every run does once it is the active run: params, logging, output capture."""
        self.run_id = active.info.run_id
        self._artifact_uri = active.info.artifact_uri
        self._started = time.monotonic()
        # From here on the run exists: whatever stops the start (bad params, an interrupt or a
        # sweep's stop landing now) must still end it, or it would stay RUNNING.
        try:
            try:
                if self.spec.params:
                    mlflow.log_params({k: _param_text(v) for k, v in self.spec.params.items()})
            except MlflowException as exc:
                raise RunError(f"Cannot log params: {exc.message}") from None
            trusted_models.enter()
            flaml_defaults.enter()
            self._trusting = True
            self._refused = RefusedData(self.run_id).__enter__()
            self._sink = hook.attach(self.session.client(), self.run_id)
            if self.spec.autolog:
                mlflow.autolog(silent=True)
            if self.spec.capture_output:
                self._tee = OutputTee().__enter__()
        except BaseException as exc:
            self._end(_status_for(exc), exc)
            raise
        return self

    def _system_metrics(self, config: dict[str, Any]) -> bool:
        wanted = self.spec.system_metrics
        if wanted is None:
            wanted = config.get("system_metrics") is True
        if wanted:
            from mlflow.system_metrics import set_system_metrics_sampling_interval

            # MLflow samples every 10 s by default: too coarse for a notebook cell's monitor.
            set_system_metrics_sampling_interval(SYSTEM_METRICS_INTERVAL)
        return wanted

    def _adopt(self) -> mlflow.ActiveRun:
        """Continue the run ``spec.run_id`` created by another process as this thread's active run.

        Its owner tags become this process's: the reaper (tracking/reaper.py) and the kernel's
        worker-lost handling then judge the run by the process that actually runs its code.
        """
        self.session.workspace  # noqa: B018 - opens it: MLflow's tracking URI is then this store's
        self._parent = self.spec.parent_run_id
        try:
            active = mlflow.start_run(run_id=self.spec.run_id, tags=context.owner_tags())
        except MlflowException as exc:
            raise RunError(f"Cannot continue run {self.spec.run_id}: {exc.message}") from None
        self._experiment_id = active.info.experiment_id
        return active

    def _parent_run_id(self) -> str | None:
        if self.spec.parent_run_id:
            return self.spec.parent_run_id
        active = mlflow.active_run()
        if active is not None:
            if not self.spec.nested:
                raise RunError(
                    f"Run {active.info.run_name!r} ({active.info.run_id}) is still active. End it "
                    "with mlflow.end_run(), or use --nested to record this run as its child."
                )
            return active.info.run_id
        if self.spec.nested:
            if self.session.last_run_id is None:
                raise RunError("--nested needs a parent: no run is active and none ran before.")
            return self.session.last_run_id
        return None

    # -- end -----------------------------------------------------------------------------------
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        status = _status_for(exc)
        self._end(status, exc)
        return False

    def _end(self, status: str, exc: BaseException | None) -> None:
        assert self.run_id is not None
        duration = time.monotonic() - self._started
        log_text = ""
        if self._tee is not None:
            self._tee.__exit__(None, None, None)
            log_text = self._tee.text
            self._tee = None
        if self.spec.autolog:
            mlflow.autolog(disable=True, silent=True)
        if self._trusting:
            self._trusting = False
            trusted_models.leave()
            flaml_defaults.leave()
        if self._sink is not None:
            self._sink.close()
        mlflow.flush_async_logging()
        refused = None
        if self._refused is not None:
            self._refused.__exit__()
            if self._sink is not None:
                self._refused.messages.extend(self._sink.errors)
            refused = self._refused.summary()
        if refused is not None and status == RunStatus.to_string(RunStatus.FINISHED):
            status = RunStatus.to_string(RunStatus.FAILED)
        client = self.session.client()
        if isinstance(exc, RunTerminated):
            client.set_tag(self.run_id, context.TAG_TERMINATED_BY, exc.reason)
        self._log_files(log_text, exc, refused)
        if not self._pop_fluent_runs(status):
            client.set_terminated(self.run_id, status)
        self.session.last_run_id = self.run_id
        error = _one_line(exc) or refused
        if not self.spec.lean:
            self.result = RunResult.from_run(
                client.get_run(self.run_id), duration=duration, error=error
            )
        else:
            self.result = RunResult(
                run_id=self.run_id,
                run_name=self.spec.name or "",
                experiment_id=self._experiment_id,
                status=status,
                duration=duration,
                error=error,
            )
        if refused is not None and exc is None:
            raise RunError(f"Run {self.result.run_name or self.run_id!r} ended FAILED: {refused}")

    def _log_files(self, log_text: str, exc: BaseException | None, refused: str | None) -> None:
        files: dict[str, str] = {}
        if not self.spec.lean:
            files["environment/requirements.txt"] = environment.requirements_txt()
            if self.spec.source is not None:
                files["cell.py"] = self.spec.source
        if log_text or not self.spec.lean:
            files["outputs/log.txt"] = log_text
        errors = []
        if exc is not None and not isinstance(exc, RunTerminated):
            errors.append(user_traceback(exc))
        if refused is not None:
            errors.append(refused + "\n")
        if errors:
            files["error.txt"] = "\n".join(errors)
        if not files:
            return
        with tempfile.TemporaryDirectory(prefix="nbstudio-") as tmp:
            for relative, text in files.items():
                path = Path(tmp, relative)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
            # The run's artifact location is known since its start: asking the client would read
            # the whole run back from the store first.
            get_artifact_repository(self._artifact_uri).log_artifacts(tmp)

    def _pop_fluent_runs(self, status: str) -> bool:
        """End child runs the code left open, then ours, keeping MLflow's active-run stack sane.

        Stops at our parent: if the code already ended our run itself, the parent stays active.
        Returns whether our run was ended here (with ``status``).
        """
        while (active := mlflow.active_run()) is not None:
            if active.info.run_id == self._parent:
                return False
            mlflow.end_run(status)
            if active.info.run_id == self.run_id:
                return True
        return False


def _param_text(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


def _one_line(exc: BaseException | None) -> str | None:
    if exc is None:
        return None
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()
