"""One trial: a child MLflow run around the trial body, judged at each report of the metric.

`run_trial` is a module-level function over plain data (`TrialTask` in, `TrialOutcome` out), so
an executor may run it in the kernel (the default) or ship it elsewhere; only the trial body and
the judge must then be picklable.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

import mlflow

from nbstudio.sweep._hook import SweepTimedOut, TrialTimedOut, Watchdog, earliest, report_hook
from nbstudio.tracking import RunSpec, RunTerminated, TrackedRun

TAG_TRIAL = "nbstudio.trial"
TAG_TRIAL_OPTUNA = "nbstudio.trial.optuna"
TAG_TRIAL_VALUE = "nbstudio.trial.value"

# Judges a trial's reports so far (trial number, values); returns a reason to stop, or None.
Judge = Callable[[int, list[float]], str | None]


@dataclass
class TrialTask:
    """Everything needed to run trial ``number`` (wall-clock deadlines, seconds since epoch)."""

    number: int
    params: dict[str, Any]
    parent_run_id: str
    experiment: str
    run_name: str
    metric: str
    tags: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    trial_deadline: float | None = None
    sweep_deadline: float | None = None


@dataclass
class TrialOutcome:
    """How a trial ended. ``values`` are its reports of the primary metric, in order."""

    number: int
    run_id: str | None
    status: str
    values: list[float]
    terminated_by: str | None = None
    error: str | None = None
    duration: float = 0.0

    @property
    def value(self) -> float | None:
        """The trial's result: its last finite report of the primary metric."""
        finite = [v for v in self.values if math.isfinite(v)]
        return finite[-1] if finite else None


def _deadline_reason(task: TrialTask) -> str | None:
    now = time.time()
    if task.trial_deadline is not None and now >= task.trial_deadline:
        return "trial_timeout"
    if task.sweep_deadline is not None and now >= task.sweep_deadline:
        return "timeout"
    return None


def _monotonic(deadline: float | None) -> float | None:
    return None if deadline is None else time.monotonic() + (deadline - time.time())


def _record_value(values: list[float]) -> None:
    """Tag the trial's value: its last report. MLflow's "latest" metric value is ambiguous when
    several reports share a millisecond and no step (it then keeps the largest)."""
    finite = [v for v in values if math.isfinite(v)]
    if finite:
        with contextlib.suppress(Exception):
            mlflow.set_tag(TAG_TRIAL_VALUE, repr(finite[-1]), synchronous=True)


def run_trial(
    task: TrialTask, objective: Callable[..., Any], judge: Judge | None = None
) -> TrialOutcome:
    """Run ``objective(**task.params)`` as a child run of the sweep and report how it ended.

    ``judge`` (in the kernel) decides at each report; without one (on a cluster) only the time
    limits are checked here, and the controller judges from the store and cancels the trial.

    The body's own exceptions end the run FAILED (traceback saved) and are not raised again: a
    failing trial does not stop the sweep. ``KeyboardInterrupt`` ends the run KILLED and is
    raised again, so that an interrupt stops the whole sweep.
    """
    tracked = TrackedRun(
        RunSpec(
            name=task.run_name,
            experiment=task.experiment,
            params=task.params,
            tags={**task.tags, TAG_TRIAL: str(task.number)},
            source=task.source,
            parent_run_id=task.parent_run_id,
            lean=True,
        )
    )

    def on_report(values: list[float]) -> str | None:
        reason = _deadline_reason(task)
        if reason is None and judge is not None:
            reason = judge(task.number, values)
        return reason

    deadline, exc_type = earliest(
        (_monotonic(task.trial_deadline), TrialTimedOut),
        (_monotonic(task.sweep_deadline), SweepTimedOut),
    )
    values: list[float] = []
    stopped_by: str | None = None
    started = time.monotonic()
    try:
        with tracked:
            assert tracked.run_id is not None
            try:
                with (
                    report_hook(tracked.run_id, task.metric, on_report) as values,
                    Watchdog(deadline, exc_type),
                ):
                    returned = objective(**task.params)
                if not values and isinstance(returned, Real) and not isinstance(returned, bool):
                    # The body returned its metric instead of logging it.
                    mlflow.log_metric(task.metric, float(returned))
                    values.append(float(returned))
            finally:
                _record_value(values)
    except KeyboardInterrupt:
        raise
    except RunTerminated as exc:
        if tracked.result is None:
            raise
        stopped_by = exc.reason
    except Exception:
        if tracked.result is None:
            raise  # the run could not even start: not the trial's own failure
    assert tracked.result is not None
    result = tracked.result
    return TrialOutcome(
        number=task.number,
        run_id=result.run_id,
        status=result.status,
        values=list(values),
        terminated_by=stopped_by if result.status == "KILLED" else None,
        error=result.error,
        duration=time.monotonic() - started,
    )
