"""``@nbstudio.component``: a plain function outside a pipeline, a step inside one.

``-> Outputs["train", "test"]`` declares named outputs: the body returns a tuple (or a dict) of
them, and a call inside a pipeline returns one handle per name, so ``train, test = split(df)``
reads the same in both worlds.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any

from nbstudio.pipelines import graph
from nbstudio.pipelines.errors import PipelineError


class _OutputsSpec:
    """What ``Outputs["a", "b"]`` evaluates to: the names of a component's outputs."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names

    def __repr__(self) -> str:
        return f"Outputs{list(self.names)}"


class _OutputsFactory:
    def __getitem__(self, names: str | tuple[str, ...]) -> _OutputsSpec:
        names = (names,) if isinstance(names, str) else tuple(names)
        if not names or not all(isinstance(n, str) and n.isidentifier() for n in names):
            raise PipelineError(f"Outputs[...] takes identifiers, got {names!r}")
        if len(set(names)) != len(names):
            raise PipelineError(f"Outputs[...] names must differ, got {names!r}")
        return _OutputsSpec(names)


#: ``-> Outputs["train", "test"]``: a component with two named outputs.
Outputs = _OutputsFactory()


def _declared_outputs(fn: Callable[..., Any]) -> tuple[str, ...]:
    annotation = inspect.signature(fn).return_annotation
    if isinstance(annotation, str):  # ``from __future__ import annotations``
        try:
            annotation = eval(annotation, fn.__globals__)
        except Exception:
            return (graph.SINGLE,)
    if isinstance(annotation, _OutputsSpec):
        return annotation.names
    return (graph.SINGLE,)


class Component:
    """A component: call it to run it, or to add a step when a pipeline is being built."""

    def __init__(
        self, fn: Callable[..., Any], cache: bool, retries: int, compute: str | None
    ) -> None:
        if not isinstance(retries, int) or retries < 0:
            raise PipelineError(f"retries must be a whole number >= 0, got {retries!r}")
        self.fn = fn
        self.name = fn.__name__
        self.cache = bool(cache)
        self.retries = retries
        self.compute = compute
        self.outputs = _declared_outputs(fn)
        self.signature = inspect.signature(fn)
        functools.update_wrapper(self, fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        building = graph.current()
        if building is None:
            return self.fn(*args, **kwargs)
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise PipelineError(f"{self.name}(): {exc}") from None
        bound.apply_defaults()
        step = building.add(self, dict(bound.arguments))
        handles = tuple(graph.Handle(step.name, name) for name in self.outputs)
        return handles[0] if len(handles) == 1 else handles

    def run_body(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Run the function on real values; returns output name -> value."""
        returned = self.fn(**arguments)
        return split_outputs(self.name, self.outputs, returned)

    def code_recipe(self, root: Any) -> dict[str, Any]:
        """The ``code`` part of this component's cache key (see pipelines.keys)."""
        from nbstudio.pipelines.keys import code_recipe

        return code_recipe(self.fn, root)

    def __repr__(self) -> str:
        return f"<component {self.name} -> {', '.join(self.outputs)}>"


def split_outputs(name: str, outputs: tuple[str, ...], returned: Any) -> dict[str, Any]:
    """The body's return value as output name -> value, checked against the declaration."""
    if len(outputs) == 1:  # one output, named or not: the value itself
        return {outputs[0]: returned}
    if isinstance(returned, dict):
        values = [returned.get(n, _MISSING) for n in outputs]
    elif isinstance(returned, tuple | list) and len(returned) == len(outputs):
        values = list(returned)
    else:
        raise PipelineError(
            f"component {name!r} declares outputs {list(outputs)} but returned "
            f"{type(returned).__name__}: return a tuple or dict of them"
        )
    missing = [n for n, v in zip(outputs, values, strict=True) if v is _MISSING]
    if missing:
        raise PipelineError(f"component {name!r} did not return {missing}")
    return dict(zip(outputs, values, strict=True))


_MISSING = object()


@typing.overload
def component(fn: Callable[..., Any]) -> Component: ...


@typing.overload
def component(
    *, cache: bool = True, retries: int = 0, compute: str | None = None
) -> Callable[[Callable[..., Any]], Component]: ...


def component(
    fn: Callable[..., Any] | None = None,
    *,
    cache: bool = True,
    retries: int = 0,
    compute: str | None = None,
) -> Any:
    """Make ``fn`` a pipeline component (``@nbstudio.component`` or ``@nbstudio.component(...)``).

    Args:
        cache: reuse an earlier run of this step when its cache key matches; ``False`` is Azure
            ML's ``is_deterministic=False`` (always run).
        retries: attempts after a failure (each attempt is its own child run).
        compute: the compute target of this step (default: the pipeline's).

    Example:
        >>> @nbstudio.component(retries=1)  # doctest: +SKIP
        ... def split(df, test_size=0.2) -> Outputs["train", "test"]:
        ...     return train_test_split(df, test_size=test_size)
    """
    if fn is None:
        return lambda f: Component(f, cache, retries, compute)
    return Component(fn, cache, retries, compute)
