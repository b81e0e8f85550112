"""``bandit``: stop a trial that falls too far behind the best trial at the same interval."""

from __future__ import annotations

from collections.abc import Sequence

from nbstudio.sweep._calls import format_call
from nbstudio.sweep.errors import PolicyError
from nbstudio.sweep.policies._base import (
    EarlyTerminationPolicy,
    TrialHistory,
    better,
    check_number,
    values_at,
)


def bandit_threshold(
    best: float, maximize: bool, slack_factor: float | None, slack_amount: float | None
) -> float:
    """The worst value still allowed to continue when the best value at the interval is ``best``.

    Azure ML's rule: maximizing, a trial stops below ``best / (1 + slack_factor)`` (or
    ``best - slack_amount``); minimizing, above ``best * (1 + slack_factor)`` (or
    ``best + slack_amount``). For a negative ``best`` those formulas would put the threshold on
    the wrong side of the best value, so the factor is applied to ``|best|``: maximizing,
    ``best - |best| * f / (1 + f)``; minimizing, ``best + |best| * f``. For positive values this
    is exactly Azure's rule.

    Example:
        >>> bandit_threshold(0.8, True, 0.1, None)  # 0.8 / 1.1
        0.7272727272727273
        >>> bandit_threshold(2.0, False, None, 0.5)
        2.5
    """
    if slack_amount is not None:
        return best - slack_amount if maximize else best + slack_amount
    assert slack_factor is not None
    if maximize:
        return best - abs(best) * slack_factor / (1 + slack_factor)
    return best + abs(best) * slack_factor


class BanditPolicy(EarlyTerminationPolicy):
    """Stop a trial whose value is worse than the best trial's at the interval, beyond a slack.

    Args:
        slack_factor: allowed slack as a ratio of the best value (0.1 = 10 %).
        slack_amount: allowed slack as an absolute amount. Give exactly one of the two.
        evaluation_interval: judge every this many reports.
        delay_evaluation: judge only from this report on.

    Example:
        >>> from nbstudio.sweep.policies import BanditPolicy, TrialHistory
        >>> best = TrialHistory((0.5, 0.8), running=False)
        >>> BanditPolicy(slack_factor=0.1).should_terminate([0.6, 0.7], [best], maximize=True)
        True
    """

    name = "bandit"

    def __init__(
        self,
        slack_factor: float | None = None,
        slack_amount: float | None = None,
        evaluation_interval: int = 1,
        delay_evaluation: int = 0,
    ) -> None:
        if (slack_factor is None) == (slack_amount is None):
            raise PolicyError(
                "bandit: give exactly one of slack_factor and slack_amount, "
                f"got slack_factor={slack_factor!r}, slack_amount={slack_amount!r}"
            )
        self.slack_factor = (
            None if slack_factor is None else check_number("bandit", "slack_factor", slack_factor)
        )
        self.slack_amount = (
            None if slack_amount is None else check_number("bandit", "slack_amount", slack_amount)
        )
        super().__init__(evaluation_interval, delay_evaluation)

    def _judge(
        self, k: int, values: tuple[float, ...], others: Sequence[TrialHistory], maximize: bool
    ) -> bool:
        current = values[-1]
        best = current
        for value in values_at(k, others):
            if better(value, best, maximize):
                best = value
        limit = bandit_threshold(best, maximize, self.slack_factor, self.slack_amount)
        return better(limit, current, maximize)

    def expression(self) -> str:
        slack = (
            {"slack_factor": self.slack_factor}
            if self.slack_factor is not None
            else {"slack_amount": self.slack_amount}
        )
        return format_call("bandit", **slack, **self._timing())
