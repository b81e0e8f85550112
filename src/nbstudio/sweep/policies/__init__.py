"""Early-termination policies (Azure ML's bandit, median stopping, truncation selection, none).

Each policy lives in a private module and is re-exported here. `parse_policy` reads the text form
used by ``%%mlrun --policy`` and stored on the sweep's parent run.

Example:
    >>> from nbstudio.sweep.policies import parse_policy
    >>> parse_policy("bandit(0.1, delay_evaluation=5)")
    bandit(slack_factor=0.1, evaluation_interval=1, delay_evaluation=5)
"""

from __future__ import annotations

from nbstudio.sweep._calls import CallSyntaxError, parse_call
from nbstudio.sweep.errors import PolicyError
from nbstudio.sweep.policies._bandit import BanditPolicy, bandit_threshold
from nbstudio.sweep.policies._base import EarlyTerminationPolicy, TrialHistory
from nbstudio.sweep.policies._median import MedianStoppingPolicy, best_so_far, running_average
from nbstudio.sweep.policies._none import NoTerminationPolicy
from nbstudio.sweep.policies._truncation import (
    TruncationSelectionPolicy,
    in_lowest,
    truncated_count,
)

__all__ = [
    "BanditPolicy",
    "EarlyTerminationPolicy",
    "MedianStoppingPolicy",
    "NoTerminationPolicy",
    "TrialHistory",
    "TruncationSelectionPolicy",
    "bandit_threshold",
    "best_so_far",
    "in_lowest",
    "parse_policy",
    "running_average",
    "truncated_count",
]

POLICIES: dict[str, type[EarlyTerminationPolicy]] = {
    "bandit": BanditPolicy,
    "medianstopping": MedianStoppingPolicy,
    "truncationselection": TruncationSelectionPolicy,
    "none": NoTerminationPolicy,
    "no": NoTerminationPolicy,
}


def _key(name: str) -> str:
    # Azure spells them BanditPolicy, MedianStoppingPolicy, TruncationSelectionPolicy.
    key = name.lower().replace("_", "")
    return key.removesuffix("policy") or key


def parse_policy(text: str | EarlyTerminationPolicy | None) -> EarlyTerminationPolicy:
    """A policy from its text (``"bandit(slack_factor=0.1)"``, ``"median_stopping"``, ``"none"``).

    Raises:
        PolicyError: for unknown names or bad arguments, quoting the text.
    """
    if isinstance(text, EarlyTerminationPolicy):
        return text
    if text is None or not text.strip():
        return NoTerminationPolicy()
    try:
        call = parse_call(text, bare_name=True)
    except CallSyntaxError as exc:
        raise PolicyError(str(exc)) from None
    cls = POLICIES.get(_key(call.name))
    if cls is None:
        raise PolicyError(
            f"{text!r}: unknown policy {call.name!r}; use bandit(slack_factor=...), "
            "median_stopping(), truncation_selection(truncation_percentage=...) or none"
        )
    try:
        return cls(*call.args, **call.kwargs)
    except TypeError as exc:
        raise PolicyError(f"{text!r}: {exc}") from None
