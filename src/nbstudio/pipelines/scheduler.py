"""Runs a built graph: a topological scheduler over `graphlib`, branches at once up to a limit.

The kernel decides everything (keys, cache look-ups, retries, when to stop); executors only run
`run_step` attempts, in threads of the kernel (``local``) or on a Dask target, through
`nbstudio.compute.executor.executor_for`. A failed step (after its retries) stops new steps from
starting unless ``continue_on_failure``; steps after a failed one never start.
"""

from __future__ import annotations

import dataclasses
import graphlib
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbstudio.compute.executor import Executor, TrialHandle, executor_for
from nbstudio.compute.records import LOCAL
from nbstudio.pipelines import keys, lineage, recording
from nbstudio.pipelines.graph import Graph, Handle, Step, handles_in
from nbstudio.pipelines.outputs import OutputRef
from nbstudio.pipelines.step_run import StepOutcome, StepTask, run_step
from nbstudio.session import Session

_POLL = 0.05  # remote steps: how often their handles are polled


@dataclass
class StepState:
    """Where a step stands: ``pending``, ``running``, ``finished``, ``reused``, ``failed``,
    ``skipped`` (an upstream step failed) or ``not-started`` (the pipeline stopped first)."""

    state: str = "pending"
    run_id: str | None = None
    reused_from: str | None = None
    key: str | None = None
    attempts: int = 0
    error: str | None = None
    outputs: dict[str, OutputRef] = field(default_factory=dict)
    output_digests: dict[str, str] = field(default_factory=dict)
    duration: float = 0.0


@dataclass
class Plan:
    """How to run: where, how many at once, what may be reused."""

    session: Session
    experiment: str
    experiment_id: str
    parent_run_id: str
    root: Path | None
    compute: str | None = None
    max_concurrent: int = 1
    cache: bool = True
    rerun: set[str] = field(default_factory=set)
    resume: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    continue_on_failure: bool = False


class Scheduler:
    def __init__(self, graph: Graph, plan: Plan) -> None:
        self.graph = graph
        self.plan = plan
        self.states = {name: StepState() for name in graph.steps}
        self._executors: dict[str | None, Executor] = {}
        self._running: dict[str, tuple[TrialHandle, StepTask, keys.StepKey]] = {}
        self.failed: str | None = None
        # Set by local steps as they end, so the loop wakes at once; remote ones are polled.
        self._wake = threading.Event()

    # -- the loop ------------------------------------------------------------------------------
    def run(self) -> dict[str, StepState]:
        sorter = graphlib.TopologicalSorter(self.graph.dependencies())
        sorter.prepare()
        ready: deque[str] = deque()
        try:
            while sorter.is_active():
                ready.extend(sorter.get_ready())
                stopping = self.failed is not None and not self.plan.continue_on_failure
                while ready and not stopping and len(self._running) < self._limit():
                    name = ready.popleft()
                    if not self._start(name):
                        sorter.done(name)
                        ready.extend(sorter.get_ready())
                if stopping and not self._running:
                    break
                if not self._running:
                    continue
                for name in self._wait():
                    if self._finish(name):
                        sorter.done(name)
        finally:
            for handle, _, _ in self._running.values():
                handle.cancel("interrupted")
            for executor in self._executors.values():
                executor.close()
        for name in self.graph.steps:  # in call order: upstream steps come first
            state = self.states[name]
            if state.state == "pending":
                blocked = any(
                    self.states[up].state in ("failed", "skipped")
                    for up in self.graph.steps[name].upstream
                )
                state.state = "skipped" if blocked else "not-started"
        return self.states

    def _limit(self) -> int:
        return max(1, self.plan.max_concurrent)

    def _wait(self) -> list[str]:
        while True:
            done = [name for name, (handle, _, _) in self._running.items() if handle.done()]
            if done:
                return done
            self._wake.wait(_POLL)
            self._wake.clear()

    # -- one step ------------------------------------------------------------------------------
    def _start(self, name: str) -> bool:
        """Start ``name`` (True), or settle it at once: reused, skipped (False)."""
        step = self.graph.steps[name]
        state = self.states[name]
        if any(self.states[up].state in ("failed", "skipped") for up in step.upstream):
            state.state = "skipped"
            return False
        upstream = {
            up: keys.Upstream(self.states[up].key, self.states[up].output_digests)
            for up in step.upstream
        }
        step_key = keys.step_key(step, upstream, self.plan.root)
        state.key = step_key.key
        if step_key.key is None:
            sys.stderr.write(f"nbstudio: step {name!r} runs uncached: {step_key.reason}\n")
        hit, because = self._reusable(step, step_key)
        if hit is not None:
            state.state, state.reused_from = "reused", hit.run_id
            state.run_id = recording.record_reuse(
                self.plan.session,
                experiment_id=self.plan.experiment_id,
                parent_run_id=self.plan.parent_run_id,
                step=name,
                tags=self._tags(step, step_key.key, 1),
                params=_params(step),
                reused_from=hit.run_id,
            )
            origin = lineage.copy(self.plan.session.client(), hit.run_id, state.run_id)
            state.outputs = lineage.with_models(hit.refs, origin)
            return False
        self._submit(step, step_key, attempt=1, because=because)
        return True

    def _reusable(
        self, step: Step, step_key: keys.StepKey
    ) -> tuple[recording.CacheHit | None, str]:
        """A run to reuse for ``step``, or None and why the step must run."""
        names = tuple(step.component.outputs)
        previous = self.plan.resume.get(step.name)
        if previous is not None and step.name not in self.plan.rerun:
            run_id, old_key = previous
            if old_key == step_key.key or not step.component.cache or step_key.key is None:
                hit = recording.usable_run(self.plan.session, run_id, names)
                if hit is not None:
                    return hit, ""
        if step_key.key is None:
            return None, f"uncached: {step_key.reason}"
        if step.name in self.plan.rerun:
            return None, "rerun"
        if not step.component.cache or not self.plan.cache:
            return None, "cache off"
        hit = recording.find_cached(self.plan.session, self.plan.experiment_id, step_key.key, names)
        return hit, "" if hit else "no run with this key and its outputs"

    def _tags(self, step: Step, key: str | None, attempt: int) -> dict[str, str]:
        return recording.step_tags(step.name, key, step.upstream, attempt)

    def _executor(self, step: Step) -> Executor:
        target = step.component.compute or self.plan.compute
        if target not in self._executors:
            self._executors[target] = executor_for(target, max_workers=self._limit())
        return self._executors[target]

    def _submit(self, step: Step, step_key: keys.StepKey, attempt: int, because: str) -> None:
        state = self.states[step.name]
        state.state, state.attempts = "running", attempt
        executor = self._executor(step)
        task = StepTask(
            step=step.name,
            component=step.component,
            arguments={k: self._refs(v) for k, v in step.arguments.items()},
            parent_run_id=self.plan.parent_run_id,
            experiment=self.plan.experiment,
            tags={
                **self._tags(step, step_key.key, attempt),
                recording.TAG_RAN_BECAUSE: because[:500],
            },
            params=_params(step),
            recipe=step_key.recipe,
        )
        if executor.target == LOCAL:
            handle = executor.submit(_run_and_wake, task, self._wake)
        else:
            handle = executor.submit(run_step, task)
        self._running[step.name] = (handle, task, step_key)

    def _refs(self, value: Any) -> Any:
        if isinstance(value, Handle):
            ref = self.states[value.step].outputs[value.output]
            return dataclasses.replace(ref, label=lineage.label(value.step, value.output))
        if isinstance(value, list | tuple) and handles_in(value):
            return type(value)(self._refs(v) for v in value)
        if isinstance(value, dict) and handles_in(value):
            return {k: self._refs(v) for k, v in value.items()}
        return value

    def _finish(self, name: str) -> bool:
        """Collect a finished attempt; False when it was retried (the step is not done yet)."""
        handle, _, step_key = self._running.pop(name)
        state = self.states[name]
        try:
            outcome: StepOutcome = handle.result()
        except Exception as exc:  # the worker died, the attempt was cancelled, ...
            outcome = StepOutcome(name, None, "FAILED", f"{type(exc).__name__}: {exc}")
        state.run_id, state.error, state.duration = outcome.run_id, outcome.error, outcome.duration
        if outcome.status == "FINISHED":
            state.state, state.outputs = "finished", outcome.outputs
            state.output_digests = {k: ref.digest for k, ref in outcome.outputs.items()}
            return True
        step = self.graph.steps[name]
        if state.attempts <= step.component.retries:
            self._submit(step, step_key, state.attempts + 1, f"retry after: {outcome.error}")
            return False
        state.state = "failed"
        self.failed = self.failed or name
        return True


def _run_and_wake(task: StepTask, wake: threading.Event) -> StepOutcome:
    try:
        return run_step(task)
    finally:
        wake.set()


def _params(step: Step) -> dict[str, Any]:
    """The step's literal arguments, shown as the step run's params."""
    return {
        k: v
        for k, v in step.arguments.items()
        if not handles_in(v) and isinstance(v, str | int | float | bool | type(None))
    }
