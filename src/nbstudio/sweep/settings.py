"""What defines a sweep (goal, space, sampling, policy, limits, seed) and its MLflow tags.

The settings are written on the parent run as tags when the sweep starts and read back from them
to resume it or to show it, so the parent run is the sweep's only record.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from nbstudio.sweep.errors import SweepError
from nbstudio.sweep.policies import EarlyTerminationPolicy, NoTerminationPolicy, parse_policy
from nbstudio.sweep.sampling import check_sampling, grid_size
from nbstudio.sweep.space import Distribution, parse_distribution

TAG_SWEEP = "nbstudio.sweep"
TAG_PRIMARY_METRIC = "nbstudio.primary_metric"
TAG_GOAL = "nbstudio.sweep.goal"
TAG_SPACE = "nbstudio.sweep.space"
TAG_FIXED = "nbstudio.sweep.fixed_params"
TAG_SAMPLING = "nbstudio.sweep.sampling"
TAG_POLICY = "nbstudio.sweep.policy"
TAG_SEED = "nbstudio.sweep.seed"
TAG_MAX_TOTAL = "nbstudio.sweep.max_total_trials"
TAG_MAX_CONCURRENT = "nbstudio.sweep.max_concurrent_trials"
TAG_TIMEOUT = "nbstudio.sweep.timeout"
TAG_TRIAL_TIMEOUT = "nbstudio.sweep.trial_timeout"

DEFAULT_MAX_TOTAL_TRIALS = 20
# Optuna's samplers seed numpy, which takes seeds below 2**32.
MAX_SEED = 2**32 - 1
GOALS = ("maximize", "minimize")
_GOAL_ALIASES = {"max": "maximize", "min": "minimize"}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*(s|sec|m|min|h|hr|d)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400}


def parse_goal(text: str) -> tuple[str, str]:
    """``"maximize:accuracy"`` -> ``("maximize", "accuracy")``."""
    goal, sep, metric = text.partition(":")
    goal = _GOAL_ALIASES.get(goal.strip().lower(), goal.strip().lower())
    metric = metric.strip()
    if not sep or goal not in GOALS or not metric:
        raise SweepError(
            f"--sweep {text!r}: expected maximize:METRIC or minimize:METRIC, e.g. maximize:accuracy"
        )
    return goal, metric


def parse_duration(value: str | float | int | None, option: str) -> float | None:
    """Seconds from ``600``, ``"90s"``, ``"10m"``, ``"2h"``; None stays None."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise SweepError(f"{option} {value!r}: expected seconds or e.g. 90s, 10m, 2h")
        seconds = float(match.group(1)) * _UNIT_SECONDS[(match.group(2) or "s").lower()]
    if seconds <= 0:
        raise SweepError(f"{option} must be positive, got {value!r}")
    return seconds


def _positive_int(value: Any, option: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SweepError(f"{option} must be an integer >= 1, got {value!r}")
    return value


@dataclass(frozen=True)
class SweepSettings:
    """A sweep's definition. Construct with `SweepSettings.create`, which validates."""

    metric: str
    goal: str
    space: dict[str, Distribution]
    fixed: dict[str, Any] = field(default_factory=dict)
    sampling: str = "random"
    policy: EarlyTerminationPolicy = field(default_factory=NoTerminationPolicy)
    max_total_trials: int = DEFAULT_MAX_TOTAL_TRIALS
    max_concurrent_trials: int = 1
    timeout: float | None = None
    trial_timeout: float | None = None
    seed: int = 0

    @property
    def maximize(self) -> bool:
        return self.goal == "maximize"

    @classmethod
    def create(
        cls,
        *,
        metric: str,
        goal: str,
        space: Mapping[str, Distribution],
        fixed: Mapping[str, Any] | None = None,
        sampling: str = "random",
        policy: str | EarlyTerminationPolicy | None = None,
        max_total_trials: int = DEFAULT_MAX_TOTAL_TRIALS,
        max_concurrent_trials: int = 1,
        timeout: str | float | None = None,
        trial_timeout: str | float | None = None,
        seed: int | None = None,
    ) -> SweepSettings:
        goal = _GOAL_ALIASES.get(goal.lower(), goal.lower())
        if goal not in GOALS:
            raise SweepError(f"goal must be maximize or minimize, got {goal!r}")
        if not metric or not isinstance(metric, str):
            raise SweepError("a sweep needs the name of its primary metric, e.g. accuracy")
        if not space:
            raise SweepError(
                "the search space is empty: give at least one parameter a distribution, "
                'e.g. C="loguniform(1e-3, 1e2)"'
            )
        sampling = check_sampling(sampling)
        max_total_trials = _positive_int(max_total_trials, "max_total_trials")
        if sampling == "grid":
            # Every combination once: more trials would only repeat points.
            max_total_trials = min(max_total_trials, grid_size(space))
        if seed is None:
            seed = secrets.randbelow(2**31)
        elif isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
            raise SweepError(f"seed must be an integer from 0 to {MAX_SEED}, got {seed!r}")
        return cls(
            metric=metric,
            goal=goal,
            space=dict(space),
            fixed=dict(fixed or {}),
            sampling=sampling,
            policy=parse_policy(policy),
            max_total_trials=max_total_trials,
            max_concurrent_trials=_positive_int(max_concurrent_trials, "max_concurrent_trials"),
            timeout=parse_duration(timeout, "timeout"),
            trial_timeout=parse_duration(trial_timeout, "trial_timeout"),
            seed=seed,
        )

    def with_limits(self, **limits: Any) -> SweepSettings:
        """A copy with other limits (those that are not None), e.g. to extend a resumed sweep."""
        changes = {k: v for k, v in limits.items() if v is not None}
        if "max_total_trials" in changes:
            changes["max_total_trials"] = _positive_int(
                changes["max_total_trials"], "max_total_trials"
            )
            if self.sampling == "grid":
                changes["max_total_trials"] = min(
                    changes["max_total_trials"], grid_size(self.space)
                )
        if "max_concurrent_trials" in changes:
            changes["max_concurrent_trials"] = _positive_int(
                changes["max_concurrent_trials"], "max_concurrent_trials"
            )
        for key in ("timeout", "trial_timeout"):
            if key in changes:
                changes[key] = parse_duration(changes[key], key)
        return replace(self, **changes)

    # -- MLflow tags ---------------------------------------------------------------------------
    def to_tags(self) -> dict[str, str]:
        return {
            TAG_SWEEP: "true",
            TAG_PRIMARY_METRIC: self.metric,
            TAG_GOAL: self.goal,
            TAG_SPACE: json.dumps({k: v.expression() for k, v in self.space.items()}),
            TAG_FIXED: json.dumps({k: repr(v) for k, v in self.fixed.items()}),
            TAG_SAMPLING: self.sampling,
            TAG_POLICY: self.policy.expression(),
            TAG_SEED: str(self.seed),
            **self.limit_tags(),
        }

    def limit_tags(self) -> dict[str, str]:
        return {
            TAG_MAX_TOTAL: str(self.max_total_trials),
            TAG_MAX_CONCURRENT: str(self.max_concurrent_trials),
            TAG_TIMEOUT: "" if self.timeout is None else repr(self.timeout),
            TAG_TRIAL_TIMEOUT: "" if self.trial_timeout is None else repr(self.trial_timeout),
        }

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> SweepSettings:
        """Read the settings back from a parent run's tags."""
        import ast

        if tags.get(TAG_SWEEP) != "true":
            raise SweepError("this run is not a sweep (no nbstudio.sweep=true tag)")
        try:
            space = {k: parse_distribution(v) for k, v in json.loads(tags[TAG_SPACE]).items()}
            fixed = {k: ast.literal_eval(v) for k, v in json.loads(tags[TAG_FIXED]).items()}
            return cls(
                metric=tags[TAG_PRIMARY_METRIC],
                goal=tags[TAG_GOAL],
                space=space,
                fixed=fixed,
                sampling=tags[TAG_SAMPLING],
                policy=parse_policy(tags[TAG_POLICY]),
                max_total_trials=int(tags[TAG_MAX_TOTAL]),
                max_concurrent_trials=int(tags[TAG_MAX_CONCURRENT]),
                timeout=float(tags[TAG_TIMEOUT]) if tags.get(TAG_TIMEOUT) else None,
                trial_timeout=(
                    float(tags[TAG_TRIAL_TIMEOUT]) if tags.get(TAG_TRIAL_TIMEOUT) else None
                ),
                seed=int(tags[TAG_SEED]),
            )
        except (KeyError, ValueError, SyntaxError) as exc:
            raise SweepError(f"the sweep's tags are incomplete or damaged ({exc})") from None

    def same_definition(self, other: SweepSettings) -> list[str]:
        """The names of definition fields (not limits) that differ from ``other``."""
        differ = []
        if self.metric != other.metric or self.goal != other.goal:
            differ.append("goal")
        if {k: v.expression() for k, v in self.space.items()} != {
            k: v.expression() for k, v in other.space.items()
        }:
            differ.append("search space")
        if self.sampling != other.sampling:
            differ.append("sampling")
        if self.policy != other.policy:
            differ.append("policy")
        return differ
