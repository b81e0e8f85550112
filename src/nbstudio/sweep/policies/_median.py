"""``median_stopping``: stop a trial whose best value so far is worse than the median of the
running averages of all trials at the same interval (Azure ML's median stopping policy)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from nbstudio.sweep._calls import format_call
from nbstudio.sweep.policies._base import EarlyTerminationPolicy, TrialHistory, better


def running_average(values: Sequence[float], k: int) -> float:
    """The mean of the first ``k`` reports.

    Example:
        >>> running_average([1.0, 2.0, 6.0], 2)
        1.5
    """
    return statistics.fmean(values[:k])


def best_so_far(values: Sequence[float], maximize: bool) -> float:
    """The best finite value among ``values`` (NaN if there is none)."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return math.nan
    return max(finite) if maximize else min(finite)


class MedianStoppingPolicy(EarlyTerminationPolicy):
    """Stop a trial whose best value so far is worse than the median of running averages.

    At evaluation point k the running average of each trial that reached k (the judged one
    included) is the mean of its first k reports; the judged trial stops if its best report so
    far is strictly worse than the median of those averages.

    Example:
        >>> from nbstudio.sweep.policies import MedianStoppingPolicy, TrialHistory
        >>> others = [TrialHistory((0.8, 0.9)), TrialHistory((0.7, 0.9))]
        >>> MedianStoppingPolicy().should_terminate([0.2, 0.3], others, maximize=True)
        True
    """

    name = "median_stopping"

    def _judge(
        self, k: int, values: tuple[float, ...], others: Sequence[TrialHistory], maximize: bool
    ) -> bool:
        averages = [running_average(values, k)]
        for history in others:
            if len(history.values) >= k:
                average = running_average(history.values, k)
                if math.isfinite(average):
                    averages.append(average)
        median = statistics.median(averages)
        best = best_so_far(values, maximize)
        return math.isfinite(best) and better(median, best, maximize)

    def expression(self) -> str:
        return format_call("median_stopping", **self._timing())
