"""``truncation_selection``: at each interval, stop the lowest-ranked percentage of trials."""

from __future__ import annotations

from collections.abc import Sequence

from nbstudio.sweep._calls import format_call
from nbstudio.sweep.errors import PolicyError
from nbstudio.sweep.policies._base import (
    EarlyTerminationPolicy,
    TrialHistory,
    better,
    values_at,
)


def truncated_count(population: int, percentage: float) -> int:
    """How many of ``population`` trials form the lowest ``percentage`` (rounded down).

    Example:
        >>> truncated_count(10, 25)
        2
    """
    return int(population * percentage // 100)


def in_lowest(current: float, others: Sequence[float], percentage: float, maximize: bool) -> bool:
    """Whether ``current`` ranks in the lowest ``percentage`` of ``[current, *others]``.

    It does when at least ``n - cut`` values are strictly better than it, where n counts all the
    values and cut is `truncated_count`. Ties are never cut together by accident: five equal
    values with a 20 % cut stop none of them.
    """
    cut = truncated_count(len(others) + 1, percentage)
    if cut == 0:
        return False
    strictly_better = sum(1 for v in others if better(v, current, maximize))
    return strictly_better >= len(others) + 1 - cut


class TruncationSelectionPolicy(EarlyTerminationPolicy):
    """Stop a trial that ranks in the lowest ``truncation_percentage`` % at the interval.

    Args:
        truncation_percentage: the percentage of trials to cut at each evaluation (1 to 99).
        exclude_finished_jobs: rank only against trials still running (ended trials, finished,
            stopped or failed, are left out of the ranking).

    Example:
        >>> from nbstudio.sweep.policies import TruncationSelectionPolicy, TrialHistory
        >>> others = [TrialHistory((v,), running=False) for v in (0.9, 0.8, 0.7)]
        >>> policy = TruncationSelectionPolicy(25)
        >>> policy.should_terminate([0.1], others, maximize=True)
        True
        >>> TruncationSelectionPolicy(25, exclude_finished_jobs=True).should_terminate(
        ...     [0.1], others, maximize=True
        ... )
        False
    """

    name = "truncation_selection"

    def __init__(
        self,
        truncation_percentage: float,
        evaluation_interval: int = 1,
        delay_evaluation: int = 0,
        exclude_finished_jobs: bool = False,
    ) -> None:
        if (
            isinstance(truncation_percentage, bool)
            or not isinstance(truncation_percentage, int | float)
            or not 1 <= truncation_percentage <= 99
        ):
            raise PolicyError(
                "truncation_selection: truncation_percentage must be a number from 1 to 99, "
                f"got {truncation_percentage!r}"
            )
        if not isinstance(exclude_finished_jobs, bool):
            raise PolicyError(
                "truncation_selection: exclude_finished_jobs must be True or False, "
                f"got {exclude_finished_jobs!r}"
            )
        self.truncation_percentage = truncation_percentage
        self.exclude_finished_jobs = exclude_finished_jobs
        super().__init__(evaluation_interval, delay_evaluation)

    def _judge(
        self, k: int, values: tuple[float, ...], others: Sequence[TrialHistory], maximize: bool
    ) -> bool:
        if self.exclude_finished_jobs:
            others = [h for h in others if h.running]
        return in_lowest(values[-1], values_at(k, others), self.truncation_percentage, maximize)

    def expression(self) -> str:
        return format_call(
            "truncation_selection",
            truncation_percentage=self.truncation_percentage,
            **self._timing(),
            exclude_finished_jobs=self.exclude_finished_jobs,
        )
