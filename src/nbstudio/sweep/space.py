"""Search-space distributions, with Azure ML's names and meanings, mapped onto Optuna.

Each distribution tells Optuna what to sample (a "raw" value in an Optuna distribution) and turns
that raw value into the value the trial receives. Keeping the two apart lets one sampler serve
every distribution: Optuna has no normal distribution, so ``normal(mu, sigma)`` samples a
probability in (0, 1) and maps it through the inverse normal CDF; ``quniform`` samples the
continuous value and rounds it, as Azure does (``round(x / q) * q``).

The ``loguniform`` convention: **bounds are values**. ``loguniform(1e-3, 1e2)`` draws values
between 0.001 and 100 whose logarithm is uniform. Azure ML's ``loguniform(min_value, max_value)``
instead takes natural-log exponents (the value is ``exp(uniform(min_value, max_value))``); write
that form explicitly as ``loguniform(min_value=-7, max_value=4.6, natural_log=True)``. The keyword
names ``min_value``/``max_value`` without ``natural_log=True`` are refused, so that an expression
copied from Azure is never silently read in the other convention. The same holds for
``qloguniform``.

Example:
    >>> from nbstudio.sweep.space import parse_distribution
    >>> d = parse_distribution("quniform(0, 10, 2)")
    >>> d.value(3.2)
    4
    >>> parse_distribution("loguniform(min_value=0, max_value=1, natural_log=True)").high
    2.718281828459045
"""

from __future__ import annotations

import math
import statistics
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from nbstudio.sweep._calls import CallSyntaxError, format_call, parse_call
from nbstudio.sweep.errors import SpaceError

# Probabilities sampled for normal distributions stay within (EPS, 1 - EPS): about +-4.75 sigma.
_EPS = 1e-6


def _number(dist: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SpaceError(f"{dist}: {name} must be a finite number, got {value!r}")
    return value


def _positive(dist: str, name: str, value: Any) -> float:
    if _number(dist, name, value) <= 0:
        raise SpaceError(f"{dist}: {name} must be > 0, got {value!r}")
    return value


def _check_bounds(dist: str, low: Any, high: Any, q: Any, low_above_zero: bool = False) -> None:
    """Finite bounds, ``low < high`` (and ``low > 0`` for log scales), a positive step if any."""
    _number(dist, "low", low)
    _number(dist, "high", high)
    if low_above_zero and low <= 0:
        raise SpaceError(
            f"{dist}: bounds are values and must be > 0, got low={low!r}. For Azure's "
            f"natural-log bounds write {dist}(min_value=..., max_value=..., natural_log=True)"
        )
    if low >= high:
        raise SpaceError(f"{dist}: low ({low!r}) must be less than high ({high!r})")
    if not math.isfinite(high - low):
        raise SpaceError(f"{dist}: the range from {low!r} to {high!r} is wider than a float holds")
    if q is not None:
        _check_step(dist, max(abs(low), abs(high)), q)


# A step this many times smaller than the values could not be told from no rounding at all.
_MAX_STEPS = 1e15
# Normal samples stay within about 4.75 sigma (see _EPS); 5 sigma bounds them safely.
_SIGMAS = 5.0


def _check_step(dist: str, magnitude: float, q: Any) -> None:
    """A positive ``q`` such that ``round(x / q)`` is a finite whole number for every value."""
    _positive(dist, "q", q)
    steps = magnitude / q
    if not math.isfinite(steps) or steps > _MAX_STEPS:
        raise SpaceError(f"{dist}: q={q!r} is too small for values up to {magnitude:g}")


def quantize(x: float, q: float) -> float | int:
    """Azure's quantization, ``round(x / q) * q``: an int when ``q`` is an int."""
    steps = round(x / q)
    if isinstance(q, int):
        return int(steps * q)
    return round(steps * q, 12)  # 0.30000000000000004 -> 0.3


class Distribution(ABC):
    """One parameter's distribution: what Optuna samples and the value the trial receives."""

    kind: str

    @abstractmethod
    def to_optuna(self) -> BaseDistribution:
        """The Optuna distribution of the raw value."""

    @abstractmethod
    def value(self, raw: Any) -> Any:
        """The trial's value for the raw value Optuna sampled."""

    @abstractmethod
    def expression(self) -> str:
        """Canonical text; `parse_distribution` reads it back to an equal distribution."""

    def __str__(self) -> str:
        return self.expression()


@dataclass(frozen=True)
class Choice(Distribution):
    """One of ``values``; Optuna samples the index, so values of any type work."""

    values: tuple[Any, ...]
    kind = "choice"

    def __post_init__(self) -> None:
        if not self.values:
            raise SpaceError("choice() needs at least one value")

    def to_optuna(self) -> BaseDistribution:
        return CategoricalDistribution(tuple(range(len(self.values))))

    def value(self, raw: Any) -> Any:
        return self.values[int(raw)]

    def expression(self) -> str:
        return format_call("choice", *self.values)


@dataclass(frozen=True)
class RandInt(Distribution):
    """An integer in ``[0, upper)``, as Azure's ``randint(upper)``."""

    upper: int
    kind = "randint"

    def __post_init__(self) -> None:
        if isinstance(self.upper, bool) or not isinstance(self.upper, int) or self.upper < 1:
            raise SpaceError(f"randint(upper): upper must be an integer >= 1, got {self.upper!r}")

    def to_optuna(self) -> BaseDistribution:
        return IntDistribution(0, self.upper - 1)

    def value(self, raw: Any) -> int:
        return int(raw)

    def expression(self) -> str:
        return format_call("randint", self.upper)


@dataclass(frozen=True)
class Uniform(Distribution):
    """A float uniform in ``[low, high]``; ``quniform`` when ``q`` is set."""

    low: float
    high: float
    q: float | None = None

    @property
    def kind(self) -> str:  # type: ignore[override]
        return "quniform" if self.q is not None else "uniform"

    def __post_init__(self) -> None:
        _check_bounds(self.kind, self.low, self.high, self.q)

    def to_optuna(self) -> BaseDistribution:
        return FloatDistribution(float(self.low), float(self.high))

    def value(self, raw: Any) -> Any:
        return float(raw) if self.q is None else quantize(float(raw), self.q)

    def expression(self) -> str:
        if self.q is None:
            return format_call("uniform", self.low, self.high)
        return format_call("quniform", self.low, self.high, self.q)


@dataclass(frozen=True)
class LogUniform(Distribution):
    """A float whose log is uniform; ``low``/``high`` are the value bounds.

    ``exponents`` keeps Azure's natural-log bounds when the distribution was written that way,
    so that its expression reads back in the same form.
    """

    low: float
    high: float
    q: float | None = None
    exponents: tuple[float, float] | None = None

    @property
    def kind(self) -> str:  # type: ignore[override]
        return "qloguniform" if self.q is not None else "loguniform"

    def __post_init__(self) -> None:
        _check_bounds(self.kind, self.low, self.high, self.q, low_above_zero=True)

    def to_optuna(self) -> BaseDistribution:
        return FloatDistribution(float(self.low), float(self.high), log=True)

    def value(self, raw: Any) -> Any:
        return float(raw) if self.q is None else quantize(float(raw), self.q)

    def expression(self) -> str:
        extra = {} if self.q is None else {"q": self.q}
        if self.exponents is not None:
            lo, hi = self.exponents
            return format_call(self.kind, min_value=lo, max_value=hi, natural_log=True, **extra)
        return format_call(self.kind, self.low, self.high, *extra.values())


@dataclass(frozen=True)
class Normal(Distribution):
    """``normal(mu, sigma)``; ``log`` makes it lognormal (``exp`` of the normal), ``q`` rounds."""

    mu: float
    sigma: float
    q: float | None = None
    log: bool = False

    @property
    def kind(self) -> str:  # type: ignore[override]
        return ("q" if self.q is not None else "") + ("lognormal" if self.log else "normal")

    def __post_init__(self) -> None:
        _number(self.kind, "mu", self.mu)
        _positive(self.kind, "sigma", self.sigma)
        reach = abs(self.mu) + _SIGMAS * self.sigma
        if not math.isfinite(reach) or (self.log and reach > math.log(sys.float_info.max)):
            raise SpaceError(
                f"{self.kind}: mu={self.mu!r} and sigma={self.sigma!r} give values beyond "
                "what a float holds"
            )
        if self.q is not None:
            magnitude = math.exp(reach) if self.log else reach
            _check_step(self.kind, magnitude, self.q)

    def to_optuna(self) -> BaseDistribution:
        # The raw value is a probability, mapped through the inverse CDF (see the module doc).
        return FloatDistribution(_EPS, 1 - _EPS)

    def value(self, raw: Any) -> Any:
        p = min(max(float(raw), _EPS), 1 - _EPS)
        x = statistics.NormalDist(self.mu, self.sigma).inv_cdf(p)
        if self.log:
            x = math.exp(x)
        return x if self.q is None else quantize(x, self.q)

    def expression(self) -> str:
        args = (self.mu, self.sigma) if self.q is None else (self.mu, self.sigma, self.q)
        return format_call(self.kind, *args)


# -- the factories: the expression language and the Python API are the same functions ----------


def choice(*values: Any) -> Choice:
    """One of ``values``; a single list or range is the list of options (``choice([1, 2])``)."""
    if len(values) == 1 and isinstance(values[0], list | tuple | range):
        values = tuple(values[0])
    return Choice(tuple(values))


def randint(upper: int) -> RandInt:
    """An integer in ``[0, upper)``."""
    return RandInt(upper)


def uniform(
    low: float | None = None,
    high: float | None = None,
    *,
    min_value: float | None = None,
    max_value: float | None = None,
) -> Uniform:
    """A float uniform between ``low`` and ``high`` (Azure's names min_value/max_value work too)."""
    low, high = _bounds("uniform", low, high, min_value, max_value)
    return Uniform(low, high)


def quniform(
    low: float | None = None,
    high: float | None = None,
    q: float | None = None,
    *,
    min_value: float | None = None,
    max_value: float | None = None,
) -> Uniform:
    """``round(uniform(low, high) / q) * q``."""
    low, high = _bounds("quniform", low, high, min_value, max_value)
    if q is None:
        raise SpaceError("quniform(low, high, q): q is missing")
    return Uniform(low, high, q)


def loguniform(
    low: float | None = None,
    high: float | None = None,
    *,
    min_value: float | None = None,
    max_value: float | None = None,
    natural_log: bool = False,
) -> LogUniform:
    """Log-uniform between the values ``low`` and ``high``, or Azure's natural-log form."""
    return _loguniform("loguniform", low, high, None, min_value, max_value, natural_log)


def qloguniform(
    low: float | None = None,
    high: float | None = None,
    q: float | None = None,
    *,
    min_value: float | None = None,
    max_value: float | None = None,
    natural_log: bool = False,
) -> LogUniform:
    """``round(loguniform(low, high) / q) * q``."""
    if q is None:
        raise SpaceError("qloguniform(low, high, q): q is missing")
    return _loguniform("qloguniform", low, high, q, min_value, max_value, natural_log)


def normal(mu: float, sigma: float) -> Normal:
    """A normal distribution."""
    return Normal(mu, sigma)


def lognormal(mu: float, sigma: float) -> Normal:
    """``exp(normal(mu, sigma))``."""
    return Normal(mu, sigma, log=True)


def qnormal(mu: float, sigma: float, q: float) -> Normal:
    """``round(normal(mu, sigma) / q) * q``."""
    return Normal(mu, sigma, q)


def qlognormal(mu: float, sigma: float, q: float) -> Normal:
    """``round(exp(normal(mu, sigma)) / q) * q``."""
    return Normal(mu, sigma, q, log=True)


def _bounds(kind: str, low: Any, high: Any, min_value: Any, max_value: Any) -> tuple[float, float]:
    low = low if min_value is None else min_value
    high = high if max_value is None else max_value
    if low is None or high is None:
        raise SpaceError(f"{kind}: needs both bounds, e.g. {kind}(0, 1)")
    return low, high


def _loguniform(
    kind: str,
    low: Any,
    high: Any,
    q: Any,
    min_value: Any,
    max_value: Any,
    natural_log: bool,
) -> LogUniform:
    azure_names = min_value is not None or max_value is not None
    if azure_names and not natural_log:
        raise SpaceError(
            f"{kind}(min_value=..., max_value=...) is Azure's natural-log form: add "
            f"natural_log=True to mean exp(uniform(min_value, max_value)), or give the bounds as "
            f"values, e.g. {kind}(0.001, 100)"
        )
    low, high = _bounds(kind, low, high, min_value, max_value)
    if not natural_log:
        return LogUniform(low, high, q)
    _number(kind, "min_value", low)
    _number(kind, "max_value", high)
    if low >= high:
        raise SpaceError(f"{kind}: min_value ({low!r}) must be less than max_value ({high!r})")
    return LogUniform(math.exp(low), math.exp(high), q, exponents=(low, high))


FACTORIES: dict[str, Callable[..., Distribution]] = {
    f.__name__: f
    for f in (
        choice,
        randint,
        uniform,
        quniform,
        loguniform,
        qloguniform,
        normal,
        lognormal,
        qnormal,
        qlognormal,
    )
}


def _factory_name(name: str) -> str | None:
    key = name.lower()  # Azure SDK v2 spells them Choice, LogUniform, ...
    return key if key in FACTORIES else None


def is_distribution_text(text: str) -> bool:
    """Whether ``text`` is a call to one of the distribution names (valid or not)."""
    try:
        call = parse_call(text)
    except CallSyntaxError:
        return False
    return _factory_name(call.name) is not None


def parse_distribution(text: str) -> Distribution:
    """Parse one distribution expression, e.g. ``"choice('linear', 'rbf')"``; never evaluated.

    Raises:
        SpaceError: naming what is wrong and quoting the text.
    """
    try:
        call = parse_call(text)
    except CallSyntaxError as exc:
        raise SpaceError(str(exc)) from None
    name = _factory_name(call.name)
    if name is None:
        raise SpaceError(
            f"{text!r}: unknown distribution {call.name!r}; use one of {', '.join(FACTORIES)}"
        )
    try:
        return FACTORIES[name](*call.args, **call.kwargs)
    except TypeError as exc:
        raise SpaceError(f"{text!r}: {exc}") from None


def parse_space(params: Mapping[str, Any]) -> tuple[dict[str, Distribution], dict[str, Any]]:
    """Split params into the search space and fixed values.

    A value is a distribution if it is a `Distribution` or a string calling a distribution
    (``"loguniform(1e-3, 1e2)"``); anything else is a fixed value given to every trial.
    """
    space: dict[str, Distribution] = {}
    fixed: dict[str, Any] = {}
    for name, value in params.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise SpaceError(f"parameter name {name!r} is not a valid Python identifier")
        if isinstance(value, Distribution):
            space[name] = value
        elif isinstance(value, str) and is_distribution_text(value):
            try:
                space[name] = parse_distribution(value)
            except SpaceError as exc:
                raise SpaceError(f"{name}: {exc}") from None
        else:
            fixed[name] = value
    return space, fixed
