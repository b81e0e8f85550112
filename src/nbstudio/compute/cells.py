"""Run a notebook cell on a compute target as a tracked run: ``%%mlrun --compute NAME``.

The cell travels with the variables it reads and comes back with the variables it assigns (see
`shipping`). Its MLflow run is created by the kernel before the cell is sent, so its id is known at
once (a live monitor can follow it while the kernel waits); the worker adopts that run inside
`TrackedRun` and writes it to the kernel's own tracking store, so it looks like a local one: same
experiment, params, source tags, ``cell.py``, output log and status. What it prints appears in the
cell while it runs, its last expression is displayed, and a failure shows the worker's traceback
and stops the notebook. A run the worker never took up (sending failed, the cell was interrupted
while it waited for a node, the worker was lost first) is ended by the kernel, never left RUNNING.

Example:
    >>> from nbstudio.compute.cells import run_cell
    >>> from nbstudio.tracking import RunSpec
    >>> ns = {"alpha": 0.5}
    >>> run_cell(
    ...     "cpu", "loss = alpha / 2\\nprint(loss)", ns, RunSpec(name="demo")
    ... )  # doctest: +SKIP
    0.25
    >>> ns["loss"]  # doctest: +SKIP
    0.25
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import dataclasses
import linecache
import sys
import uuid
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import cloudpickle

from nbstudio.compute import shipping
from nbstudio.compute.errors import ComputeError, WorkerLostError
from nbstudio.compute.remote import WORKER_LOST, RemoteTask
from nbstudio.tracking import RunResult, RunSpec, TrackedRun, user_traceback

TAG_COMPUTE = "nbstudio.compute"
TAG_TASK = "nbstudio.compute.task"
INTERRUPT_GRACE_SECONDS = 10.0
# nbstudio.terminated_by of a run whose cell never started on a worker (see `_end_left_running`).
NOT_STARTED = "not-started"

Show = Callable[[Any], Any]


@dataclass
class CellOutcome:
    """What the worker sends back after running a cell (pickled values, not objects)."""

    result: RunResult | None
    values: dict[str, bytes] = field(default_factory=dict)
    not_returned: dict[str, str] = field(default_factory=dict)
    display: bytes | None = None
    error: bytes | None = None
    error_text: str | None = None


class RemoteCellError(Exception):
    """The cell failed on the worker and its exception could not be brought back as it was."""


class _Repr:
    """Stands in for a last-expression value that cannot be pickled: shows its repr."""

    def __init__(self, text: str) -> None:
        self._text = text

    def __repr__(self) -> str:
        return self._text


# -- on the worker ---------------------------------------------------------------------------------
def execute_cell(
    source: str, filename: str, packed: dict[str, bytes], spec: RunSpec, returns: list[str]
) -> CellOutcome:
    """Run the cell in a fresh namespace on this worker; called through `worker.run_task`."""
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    namespace.update(shipping.unpack(packed))
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    tracked = TrackedRun(spec)
    value: Any = None
    error: Exception | None = None
    try:
        with tracked:
            value = _exec(source, filename, namespace)
    except Exception as exc:
        if tracked.result is None:
            raise  # the run could not be started: not the cell's own error
        error = exc
    values, not_returned = _pack_back(namespace, returns)
    return CellOutcome(
        result=tracked.result,
        values=values,
        not_returned=not_returned,
        display=None if value is None else _dumps_or_repr(value),
        error=None if error is None else _dumps_or_none(error),
        error_text=None if error is None else user_traceback(error),
    )


def _exec(source: str, filename: str, namespace: dict[str, Any]) -> Any:
    """Execute like IPython: the last expression's value is returned for display (unless ``;``)."""
    tree = ast.parse(source, filename)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    exec(compile(tree, filename, "exec"), namespace)
    if last is None:
        return None
    value = eval(compile(last, filename, "eval"), namespace)
    if source.rstrip().endswith(";") or _is_logging_handle(value):
        return None
    return value


def _is_logging_handle(value: Any) -> bool:
    from mlflow.utils.async_logging.run_operations import RunOperations

    return isinstance(value, RunOperations)


def _pack_back(namespace: dict[str, Any], names: list[str]) -> tuple[dict[str, bytes], dict]:
    values: dict[str, bytes] = {}
    not_returned: dict[str, str] = {}
    for name in names:
        if name not in namespace:
            continue  # not reached (the cell failed first) or deleted
        try:
            values[name] = cloudpickle.dumps(namespace[name])
        except Exception as exc:
            not_returned[name] = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return values, not_returned


def _dumps_or_repr(value: Any) -> bytes:
    try:
        return cloudpickle.dumps(value)
    except Exception:
        return cloudpickle.dumps(_Repr(repr(value)))


def _dumps_or_none(value: Any) -> bytes | None:
    try:
        data = cloudpickle.dumps(value)
        cloudpickle.loads(data)
        return data
    except Exception:
        return None


# -- in the kernel ---------------------------------------------------------------------------------
class RemoteCell:
    """A cell running (or run) on a compute target: the handle ``%%mlrun --no-wait`` returns.

    ``wait()`` blocks until it ends, then brings its variables back into the namespace, shows
    its output, last value and run summary, and raises its error if it failed. ``run_id`` is known
    from the start: the kernel created the run, the worker adopts it.
    """

    def __init__(
        self, target: str, task: RemoteTask, namespace: MutableMapping[str, Any], spec: RunSpec
    ) -> None:
        self.target = target
        self.task = task
        self.namespace = namespace
        self.spec = spec
        self.result: RunResult | None = None
        self._finished = False

    @property
    def run_id(self) -> str | None:
        return self.spec.run_id

    @property
    def status(self) -> str:
        if self.result is not None:
            return self.result.status
        if self.task.done():
            return "DONE (call .wait())"
        return "RUNNING" if self.task.started else "QUEUED"

    def done(self) -> bool:
        return self.task.done()

    def wait(
        self, show: Show | None = None, echo: bool = False, show_result: bool = True
    ) -> RunResult:
        """Block until the cell ends; bring its variables back; show its value and summary.

        ``echo`` writes the output as it is printed (``%%mlrun`` without ``--no-wait``); else the
        whole output is written once the cell has ended. ``show_result=False`` leaves the run
        summary to the caller (e.g. a live monitor showing the final state instead); it is in
        ``self.result`` even when the cell's error is raised.
        """
        if self._finished:
            assert self.result is not None
            return self.result
        try:
            outcome = self.task.outcome(echo=echo)
        except KeyboardInterrupt:
            self.interrupt()
            raise
        except WorkerLostError:
            self._end_left_running("FAILED", WORKER_LOST, None)
            raise
        except Exception as exc:  # the worker could not start the cell (e.g. unpickling failed)
            self._end_left_running("FAILED", NOT_STARTED, exc)
            raise
        if outcome.terminated is not None:
            self._finished = True
            self._end_left_running("KILLED", outcome.terminated, None)
            raise KeyboardInterrupt(f"cell on compute {self.target!r} {outcome.terminated}")
        if not echo and outcome.output:
            sys.stdout.write(outcome.output)
        cell: CellOutcome = outcome.value
        self._finished = True
        self.result = cell.result
        self._bring_back(cell)
        if cell.result is not None:
            from nbstudio.session import get_session

            get_session().last_run_id = cell.result.run_id
        if show is not None:
            if cell.display is not None:
                show(cloudpickle.loads(cell.display))
            if cell.result is not None and show_result:
                show(cell.result)
        if cell.error_text is not None:
            raise _remote_error(cell, self.target)
        assert cell.result is not None
        return cell.result

    def _bring_back(self, cell: CellOutcome) -> None:
        broken = dict(cell.not_returned)
        for name, data in cell.values.items():
            try:
                self.namespace[name] = cloudpickle.loads(data)
            except Exception as exc:
                broken[name] = f"{type(exc).__name__}: {exc}".splitlines()[0]
        if broken:
            listed = "; ".join(f"{k} ({v})" for k, v in sorted(broken.items()))
            sys.stderr.write(f"nbstudio: not brought back from {self.target!r}: {listed}\n")

    def interrupt(self) -> None:
        """Stop the cell (Ctrl-C in the kernel stops it on the worker too): its run ends KILLED.

        A cell still waiting for a node never starts; its run is ended here.
        """
        if self._finished:
            return
        self.task.cancel("interrupted")
        with contextlib.suppress(BaseException):
            self.task.outcome(timeout=INTERRUPT_GRACE_SECONDS)
        self._finished = True
        self._end_left_running("KILLED", "interrupted", None)

    def _end_left_running(self, status: str, reason: str, exc: BaseException | None) -> None:
        """End the run if nobody else will.

        A worker that adopted the run ends it, or, if that worker died, `remote.fail_runs_of`
        does. A run still owned by this kernel (its cell never started) has nobody else, nor has
        one whose task has ended with the run RUNNING (stopped while the worker was adopting it).
        """
        if self.run_id is not None:
            _end_if_running(self.run_id, status, reason, exc, any_owner=self.task.done())

    def __repr__(self) -> str:
        run = f", run {self.run_id}" if self.run_id else ""
        hint = "" if self._finished else "; .wait() brings its variables back"
        return f"<cell on compute {self.target!r}: {self.status}{run}{hint}>"


def _remote_error(cell: CellOutcome, target: str) -> BaseException:
    exc: BaseException | None = None
    if cell.error is not None:
        with contextlib.suppress(Exception):
            exc = cloudpickle.loads(cell.error)
    if not isinstance(exc, BaseException):
        head = (cell.error_text or "").strip().splitlines()
        exc = RemoteCellError(head[-1] if head else "the cell failed on the worker")
    status = cell.result.status if cell.result else "FAILED"
    name = cell.result.run_name if cell.result else "?"
    lines = [*(cell.error_text or "").rstrip("\n").splitlines()]
    lines.append(f"(on compute {target!r}; run {name!r} ended {status})")
    with contextlib.suppress(AttributeError, TypeError):
        exc._render_traceback_ = lambda: lines  # type: ignore[attr-defined]
    return exc


def _create_run(spec: RunSpec) -> str:
    """Create the cell's run in the kernel (name, tags, parent; owned by this kernel until a
    worker adopts it), without making it the kernel's active run."""
    from mlflow.exceptions import MlflowException
    from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

    from nbstudio.errors import RunError
    from nbstudio.session import get_session
    from nbstudio.tracking.context import owner_tags

    session = get_session()
    tags = {**owner_tags(), **{k: str(v) for k, v in spec.tags.items()}}
    if spec.parent_run_id is not None:
        tags[MLFLOW_PARENT_RUN_ID] = spec.parent_run_id
    try:
        run = session.client().create_run(
            session.experiment_id(spec.experiment), tags=tags, run_name=spec.name
        )
    except MlflowException as exc:
        raise RunError(f"Cannot start the run: {exc.message}") from None
    return run.info.run_id


def _end_if_running(
    run_id: str, status: str, reason: str, exc: BaseException | None, any_owner: bool = False
) -> None:
    """End ``run_id`` ``status`` with ``nbstudio.terminated_by=reason`` (and ``error.txt``) if
    it is still RUNNING and owned by this kernel (no worker adopted it), or by anyone."""
    from nbstudio.session import get_session
    from nbstudio.tracking.context import TAG_HOST, TAG_PID, TAG_TERMINATED_BY, owner_tags

    client = get_session().client()
    run = client.get_run(run_id)
    me = owner_tags()
    tags = run.data.tags
    mine = all(tags.get(k) == me[k] for k in (TAG_HOST, TAG_PID))
    if run.info.status != "RUNNING" or not (mine or any_owner):
        return
    client.set_tag(run_id, TAG_TERMINATED_BY, reason)
    if exc is not None:
        with contextlib.suppress(Exception):
            client.log_text(run_id, user_traceback(exc), "error.txt")
    client.set_terminated(run_id, status)


def _prepare_spec(spec: RunSpec, target: str) -> RunSpec:
    """Settle in the kernel what the worker cannot know: experiment, notebook, parent run."""
    import mlflow

    from nbstudio.errors import RunError
    from nbstudio.session import get_session
    from nbstudio.tracking.context import source_tags

    session = get_session()
    experiment = spec.experiment or session.default_experiment()
    session.experiment_id(experiment)  # created here once, not raced by several workers
    parent = spec.parent_run_id
    active = mlflow.active_run()
    if parent is None and spec.nested:
        parent = active.info.run_id if active else session.last_run_id
        if parent is None:
            raise RunError("--nested needs a parent: no run is active and none ran before.")
    elif parent is None and active is not None:
        raise RunError(
            f"Run {active.info.run_name!r} ({active.info.run_id}) is still active. End it with "
            "mlflow.end_run(), or use --nested to record this run as its child."
        )
    tags = {
        **_kernel_context_tags(),
        **source_tags(session.workspace.root),
        **spec.tags,
        TAG_COMPUTE: target,
    }
    return dataclasses.replace(
        spec, experiment=experiment, parent_run_id=parent, nested=False, tags=tags
    )


def _kernel_context_tags() -> dict[str, str]:
    """MLflow's own context tags (user, source, git) as the kernel would record them.

    The worker would otherwise record its own: the Dask worker as the source, for instance.
    """
    from mlflow.tracking.context.registry import resolve_tags

    return {
        k: v
        for k, v in resolve_tags().items()
        if k == "mlflow.user" or k.startswith("mlflow.source.")
    }


def run_cell(
    target: str,
    source: str,
    namespace: MutableMapping[str, Any],
    spec: RunSpec,
    wait: bool = True,
    show: Show | None = None,
) -> RemoteCell:
    """Run ``source`` as the tracked run ``spec`` on compute target ``target``.

    ``source`` is plain Python (IPython's magics and ``!commands`` cannot run on a worker).
    With ``wait`` (the default) this returns once the cell has ended, its output streamed, its
    variables back in ``namespace`` and, through ``show`` (e.g. IPython's ``display``), its last
    value and run summary shown; a failure in the cell is raised with the worker's traceback.
    Without ``wait`` it returns the `RemoteCell` handle at once.
    """
    from nbstudio.compute.targets import require_running

    info = require_running(target)
    if info.kind == "local":
        raise ComputeError("'local' is the kernel: run the cell without --compute.")
    tree = shipping.parse(source)
    reads = shipping.read_names(tree)
    if "get_ipython" in reads:
        raise ComputeError(
            "This cell uses IPython magics or !commands, which cannot run on a compute target. "
            "Keep them in a local cell."
        )
    assigned = shipping.assigned_names(tree)
    names = shipping.names_to_ship(tree, namespace)
    packed, _ = shipping.pack(namespace, names, f"compute {target!r}", optional=assigned)
    task_id = uuid.uuid4().hex
    prepared = _prepare_spec(spec, target)
    prepared.tags[TAG_TASK] = task_id
    prepared.run_id = _create_run(prepared)
    filename = f"<cell {task_id[:8]}>"
    args = (source, filename, packed, prepared, sorted(assigned))
    try:
        task = RemoteTask(
            target, info.address or "", "cell", execute_cell, args, {}, task_id=task_id
        )
    except BaseException as exc:
        with contextlib.suppress(Exception):
            _end_if_running(prepared.run_id, "FAILED", NOT_STARTED, exc)
        raise
    handle = RemoteCell(target, task, namespace, prepared)
    if wait:
        handle.wait(show=show, echo=True)
    return handle
