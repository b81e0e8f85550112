"""``none``: every trial runs to its end (the default)."""

from __future__ import annotations

from collections.abc import Sequence

from nbstudio.sweep.policies._base import EarlyTerminationPolicy, TrialHistory


class NoTerminationPolicy(EarlyTerminationPolicy):
    """Never stops a trial."""

    name = "none"

    def __init__(self) -> None:
        super().__init__()

    def is_evaluation_point(self, k: int) -> bool:
        return False

    def _judge(
        self, k: int, values: tuple[float, ...], others: Sequence[TrialHistory], maximize: bool
    ) -> bool:
        return False

    def expression(self) -> str:
        return "none"
