"""The base of early-termination policies: when to judge, and the interface to judge with.

A policy is a pure function of metric histories. It never reads or writes storage, so it can be
unit-tested on hand-written tables and used by any controller (in the kernel, or one that reads
histories of trials running on a cluster from MLflow).

Vocabulary (Azure ML's): an *interval* is one report of the primary metric. A trial's report k
(1-based) is an evaluation point when ``k % evaluation_interval == 0`` and
``k >= delay_evaluation``. At an evaluation point a trial is judged on its latest value against
the values the other trials reported at the same interval k.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from nbstudio.sweep.errors import PolicyError


@dataclass(frozen=True)
class TrialHistory:
    """The primary-metric reports of one trial, in order; ``running`` is False once it ended."""

    values: tuple[float, ...]
    running: bool = True

    def at(self, k: int) -> float | None:
        """The value reported at interval ``k`` (1-based), if the trial got that far."""
        return self.values[k - 1] if len(self.values) >= k else None


def check_int(policy: str, name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise PolicyError(f"{policy}: {name} must be an integer >= {minimum}, got {value!r}")
    return value


def check_number(policy: str, name: str, value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise PolicyError(f"{policy}: {name} must be a number >= 0, got {value!r}")
    return float(value)


def better(a: float, b: float, maximize: bool) -> bool:
    """Whether ``a`` is strictly better than ``b``."""
    return a > b if maximize else a < b


def values_at(k: int, histories: Sequence[TrialHistory]) -> list[float]:
    """The finite values reported at interval ``k`` by the trials that reached it."""
    found = (h.at(k) for h in histories)
    return [v for v in found if v is not None and math.isfinite(v)]


class EarlyTerminationPolicy(ABC):
    """Decides at a report whether a trial should stop; subclasses implement `_judge`."""

    name: str = "policy"

    def __init__(self, evaluation_interval: int = 1, delay_evaluation: int = 0) -> None:
        self.evaluation_interval = check_int(
            self.name, "evaluation_interval", evaluation_interval, 1
        )
        self.delay_evaluation = check_int(self.name, "delay_evaluation", delay_evaluation, 0)

    def is_evaluation_point(self, k: int) -> bool:
        """Whether report ``k`` (1-based) is one at which this policy acts."""
        return k >= 1 and k % self.evaluation_interval == 0 and k >= self.delay_evaluation

    def should_terminate(
        self, values: Sequence[float], others: Sequence[TrialHistory], maximize: bool
    ) -> bool:
        """Whether the trial that just reported ``values[-1]`` should stop.

        Args:
            values: the judged trial's reports so far, oldest first.
            others: the histories of the sweep's other trials (running or ended).
            maximize: the sweep's goal.
        """
        k = len(values)
        if not self.is_evaluation_point(k) or not math.isfinite(values[-1]):
            return False
        return self._judge(k, tuple(values), others, maximize)

    @abstractmethod
    def _judge(
        self, k: int, values: tuple[float, ...], others: Sequence[TrialHistory], maximize: bool
    ) -> bool:
        """The policy's rule at evaluation point ``k``."""

    def _timing(self) -> dict[str, int]:
        return {
            "evaluation_interval": self.evaluation_interval,
            "delay_evaluation": self.delay_evaluation,
        }

    @abstractmethod
    def expression(self) -> str:
        """Canonical text; `parse_policy` reads it back to an equal policy."""

    def __str__(self) -> str:
        return self.expression()

    def __repr__(self) -> str:
        return self.expression()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EarlyTerminationPolicy) and self.expression() == other.expression()

    def __hash__(self) -> int:
        return hash(self.expression())
