"""The graph a pipeline function builds: steps, the handles they return, and their edges.

Calling a component inside ``@pipeline`` adds a `Step` to the `Graph` being built (a context
variable, so two threads may build pipelines at once) and returns `Handle` objects standing for
its outputs; a handle passed to another component becomes an edge. Nothing runs while building.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from nbstudio.pipelines.errors import PipelineError

#: The name of a component's output when it declares no ``Outputs[...]``.
SINGLE = "output"

_BUILDING: contextvars.ContextVar[Graph | None] = contextvars.ContextVar(
    "nbstudio_pipeline_graph", default=None
)


@dataclass(frozen=True)
class Handle:
    """Output ``output`` of step ``step``: what a component call returns inside a pipeline."""

    step: str
    output: str = SINGLE

    def __repr__(self) -> str:
        return f"<output {self.output!r} of step {self.step!r}>"

    def __iter__(self) -> Iterator[Any]:
        raise PipelineError(
            f"step {self.step!r} has one output: declare -> Outputs['a', 'b'] to unpack it"
        )

    def __bool__(self) -> bool:
        raise PipelineError(
            f"{self!r} has no value while the pipeline is built: pass it to another component "
            "instead of testing it"
        )


@dataclass
class Step:
    """One call of a component in the graph: its arguments are literals or `Handle`s."""

    name: str
    component: Any  # a Component (or a NotebookStep): has .fn/.run_body, .outputs, .cache, ...
    arguments: dict[str, Any]

    @property
    def upstream(self) -> list[str]:
        seen: list[str] = []
        for value in self.arguments.values():
            for handle in _handles_in(value):
                if handle.step not in seen:
                    seen.append(handle.step)
        return seen


@dataclass
class Graph:
    """Steps in the order they were called, and what the pipeline function returned."""

    steps: dict[str, Step] = field(default_factory=dict)
    returned: Any = None

    def add(self, component: Any, arguments: dict[str, Any]) -> Step:
        base = component.name
        name, n = base, 1
        while name in self.steps:
            n += 1
            name = f"{base}_{n}"
        step = Step(name, component, arguments)
        self.steps[name] = step
        return step

    def dependencies(self) -> dict[str, set[str]]:
        """step -> the steps it needs: what `graphlib.TopologicalSorter` takes."""
        return {name: set(step.upstream) for name, step in self.steps.items()}

    def downstream_of(self, names: set[str]) -> set[str]:
        """``names`` and every step that depends on one of them, directly or not."""
        found = set(names)
        changed = True
        while changed:
            changed = False
            for name, step in self.steps.items():
                if name not in found and found & set(step.upstream):
                    found.add(name)
                    changed = True
        return found

    def to_json(self) -> dict[str, Any]:
        """The graph as plain data (the parent run's ``graph.json``)."""
        return {
            "steps": [
                {
                    "name": step.name,
                    "component": step.component.name,
                    "upstream": step.upstream,
                    "outputs": list(step.component.outputs),
                    "inputs": {k: describe(v) for k, v in step.arguments.items()},
                }
                for step in self.steps.values()
            ],
            "edges": [
                {"from": h.step, "to": step.name, "output": h.output, "input": arg}
                for step in self.steps.values()
                for arg, value in step.arguments.items()
                for h in _handles_in(value)
            ],
        }


def describe(value: Any) -> Any:
    """A short JSON-able description of an argument (handles by their step and output)."""
    if isinstance(value, Handle):
        return {"step": value.step, "output": value.output}
    if isinstance(value, list | tuple):
        return [describe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): describe(v) for k, v in value.items()}
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return f"<{type(value).__name__}>"


def _handles_in(value: Any) -> Iterator[Handle]:
    if isinstance(value, Handle):
        yield value
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _handles_in(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _handles_in(v)


def handles_in(value: Any) -> list[Handle]:
    return list(_handles_in(value))


def current() -> Graph | None:
    """The graph being built in this context, or None (a component is then a plain function)."""
    return _BUILDING.get()


@contextmanager
def building() -> Iterator[Graph]:
    graph = Graph()
    token = _BUILDING.set(graph)
    try:
        yield graph
    finally:
        _BUILDING.reset(token)


def build(fn: Callable[..., Any], params: dict[str, Any]) -> Graph:
    """Call the pipeline function ``fn(**params)`` with components recording, not running."""
    with building() as graph:
        graph.returned = fn(**params)
    if not graph.steps:
        raise PipelineError(f"pipeline {fn.__name__!r} calls no component")
    return graph
