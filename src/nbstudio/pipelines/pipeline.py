"""``@nbstudio.pipeline``: a function of components, shown as a graph and run as MLflow runs.

``wine.run(C=0.5)`` builds the graph with those inputs, opens the parent run, lets the scheduler
run (or reuse) every step, and ends the parent FINISHED, or FAILED naming the failed step.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from nbstudio.pipelines import graph as graphs
from nbstudio.pipelines import recording
from nbstudio.pipelines.display import GraphView
from nbstudio.pipelines.errors import PipelineError
from nbstudio.pipelines.scheduler import Plan, Scheduler, StepState
from nbstudio.session import Session, get_session


@dataclass
class PipelineRun:
    """The result of ``Pipeline.run``: the parent run, every step's state, the outputs."""

    run_id: str
    name: str
    status: str
    steps: dict[str, StepState]
    graph: dict[str, Any]
    returned: Any
    failed_step: str | None = None

    @property
    def error(self) -> str | None:
        if self.failed_step is None:
            return None
        state = self.steps[self.failed_step]
        return f"step {self.failed_step!r} failed (run {state.run_id}): {state.error}"

    @property
    def outputs(self) -> Any:
        """What the pipeline function returned, handles replaced by the outputs they stand for."""
        return self._load(self.returned)

    def _load(self, value: Any) -> Any:
        if isinstance(value, graphs.Handle):
            state = self.steps[value.step]
            if value.output not in state.outputs:
                raise PipelineError(f"step {value.step!r} has no output (it {state.state})")
            return state.outputs[value.output].load()
        if isinstance(value, dict):
            return {k: self._load(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self._load(v) for v in value)
        return value

    def show(self) -> GraphView:
        states = {name: s.state for name, s in self.steps.items()}
        return GraphView(self.graph, states, f"{self.name} ({self.status})")

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for state in self.steps.values():
            counts[state.state] = counts.get(state.state, 0) + 1
        text = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        line = f"pipeline {self.name!r} {self.status} (run {self.run_id}): {text}"
        return line + (f"; {self.error}" if self.error else "")

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        import html

        return f"<div><code>{html.escape(self.summary())}</code></div>{self.show().to_svg()}"


class Pipeline:
    """A pipeline function; calling it outside a pipeline builds and runs nothing by itself."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.name = fn.__name__
        self.signature = inspect.signature(fn)
        functools.update_wrapper(self, fn)

    def params(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """The pipeline's inputs: its defaults with ``overrides`` applied."""
        try:
            bound = self.signature.bind(**(overrides or {}))
        except TypeError as exc:
            raise PipelineError(f"pipeline {self.name!r}: {exc}") from None
        bound.apply_defaults()
        return dict(bound.arguments)

    def build(self, **params: Any) -> graphs.Graph:
        return graphs.build(self.fn, self.params(params))

    def show(self, **params: Any) -> GraphView:
        """The graph, drawn before anything runs."""
        return GraphView(self.build(**params).to_json(), None, self.name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def run(
        self,
        params: dict[str, Any] | None = None,
        *,
        compute: str | None = None,
        max_concurrent: int = 1,
        cache: bool = True,
        rerun: str | Iterable[str] | None = None,
        resume: str | None = None,
        continue_on_failure: bool = False,
        experiment: str | None = None,
        run_name: str | None = None,
        on_start: Callable[[str], None] | None = None,
        session: Session | None = None,
        **kwargs: Any,
    ) -> PipelineRun:
        """Run the pipeline; returns a `PipelineRun` (FAILED runs are returned, not raised).

        Args:
            params / kwargs: the pipeline's inputs (``wine.run(C=0.5)``).
            compute: the compute target of steps that name none (default: local threads).
            max_concurrent: steps running at once (independent branches).
            cache: False runs every step (``--no-cache``).
            rerun: step names to run again even when cached, with their downstream steps.
            resume: a pipeline run id: its finished steps are reused.
            continue_on_failure: a failed step does not stop the branches that do not need it.
            on_start: called with the parent run id once it exists (a monitor).
        """
        import mlflow

        if mlflow.active_run() is not None:
            raise PipelineError("a run is active: end it (mlflow.end_run()) before a pipeline")
        if not isinstance(max_concurrent, int) or max_concurrent < 1:
            raise PipelineError(f"max_concurrent must be >= 1, got {max_concurrent!r}")
        values = self.params({**(params or {}), **kwargs})
        graph = graphs.build(self.fn, values)
        rerun_set = {rerun} if isinstance(rerun, str) else set(rerun or ())
        unknown = rerun_set - set(graph.steps)
        if unknown:
            raise PipelineError(
                f"no step {sorted(unknown)[0]!r} in {self.name}: {', '.join(graph.steps)}"
            )
        session = session or get_session()
        ws = session.workspace
        experiment_name = experiment or session.default_experiment()
        experiment_id = session.experiment_id(experiment_name)
        resumed = recording.finished_steps(session, resume) if resume else {}
        graph_json = graph.to_json()
        parent = recording.create_parent(
            session,
            pipeline=self.name,
            run_name=run_name,
            experiment_id=experiment_id,
            params=values,
            graph=graph_json,
            source=_source(self.fn),
            tags={recording.TAG_RESUMED_FROM: resume} if resume else {},
        )
        plan = Plan(
            session=session,
            experiment=experiment_name,
            experiment_id=experiment_id,
            parent_run_id=parent,
            root=ws.root if not ws.is_remote else None,
            compute=compute,
            max_concurrent=max_concurrent,
            cache=cache,
            rerun=graph.downstream_of(rerun_set) if rerun_set else set(),
            resume=resumed,
            continue_on_failure=continue_on_failure,
        )
        status, failed = "FAILED", None
        try:
            if on_start is not None:
                on_start(parent)
            scheduler = Scheduler(graph, plan)
            states = scheduler.run()
            failed = scheduler.failed
            status = "FAILED" if failed else "FINISHED"
        except KeyboardInterrupt:
            status = "KILLED"
            raise
        finally:
            recording.end_parent(session, parent, status, failed)
        return PipelineRun(parent, self.name, status, states, graph_json, graph.returned, failed)

    def __repr__(self) -> str:
        return f"<pipeline {self.name}{self.signature}>"


def _source(fn: Callable[..., Any]) -> str | None:
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        return None


def pipeline(fn: Callable[..., Any]) -> Pipeline:
    """Make ``fn`` a pipeline: calls of components inside it become steps of a graph.

    Example:
        >>> @nbstudio.pipeline  # doctest: +SKIP
        ... def wine(path="data/wine.csv", C=1.0):
        ...     train, test = split(load(path))
        ...     return {"lr": evaluate(train_lr(train, C=C), test)}
        >>> wine.show()  # doctest: +SKIP
        >>> run = wine.run(C=0.5, max_concurrent=2)  # doctest: +SKIP
    """
    return Pipeline(fn)
