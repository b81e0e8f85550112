"""``nbstudio.sweep(...)``: tune a Python function, each call a trial recorded as a child run."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from nbstudio.sweep.controller import Observer, run_sweep
from nbstudio.sweep.errors import SweepError
from nbstudio.sweep.executor import TrialExecutor
from nbstudio.sweep.policies import EarlyTerminationPolicy
from nbstudio.sweep.results import Sweep
from nbstudio.sweep.settings import DEFAULT_MAX_TOTAL_TRIALS, SweepSettings, parse_goal
from nbstudio.sweep.space import Distribution, parse_space


def sweep(
    trial: Callable[..., Any],
    space: Mapping[str, Distribution | str | Any] | None = None,
    *,
    goal: str | None = None,
    metric: str | None = None,
    sampling: str | None = None,
    policy: str | EarlyTerminationPolicy | None = None,
    max_total_trials: int | None = None,
    max_concurrent_trials: int | None = None,
    timeout: str | float | None = None,
    trial_timeout: str | float | None = None,
    seed: int | None = None,
    name: str | None = None,
    experiment: str | None = None,
    resume: str | None = None,
    executor: TrialExecutor | None = None,
    source: str | None = None,
    tags: Mapping[str, str] | None = None,
    observers: list[Observer] | None = None,
) -> Sweep:
    """Run a hyperparameter sweep of ``trial`` and return it as a `Sweep`.

    ``trial(**params)`` is called once per trial, inside its own MLflow child run, with the values
    sampled from ``space``; it reports the primary metric with ``mlflow.log_metric`` (every call
    is a report the early-termination policy may act on), or returns it.

    Args:
        trial: the trial body.
        space: parameter name -> distribution (``loguniform(1e-3, 1e2)``, or its text) or a fixed
            value passed to every trial.
        goal: ``"maximize:accuracy"``, or ``"maximize"`` with ``metric="accuracy"``.
        metric: the primary metric, when ``goal`` does not name it.
        sampling: ``grid``, ``random`` (default), ``sobol`` or ``bayesian``.
        policy: ``"bandit(slack_factor=0.1)"``, ``"median_stopping()"``,
            ``"truncation_selection(20)"``, ``"none"`` (default), or a policy object.
        max_total_trials: default 20 (capped at the grid size for grid sampling).
        max_concurrent_trials: default 1 (trials in the kernel run one at a time).
        timeout: the whole sweep's time limit (seconds, or ``"10m"``); running trials are stopped.
        trial_timeout: each trial's time limit.
        seed: makes sampling reproducible (a random one is drawn and recorded if None).
        name: the parent run's name. experiment: the experiment (default: the session's).
        resume: a parent run id: continue that sweep (its stored settings are used; the limits
            given here may extend it). Finished trials are never run again.
        executor: where trials run (default: in this thread, one at a time).
        source: the trial's source code, saved as ``cell.py`` on the parent run.
        tags: extra tags for the parent run and every trial.
        observers: called with a `SweepProgress` after every change (for displays, monitors).

    Example:
        >>> import mlflow, nbstudio
        >>> def train(C, kernel):  # doctest: +SKIP
        ...     mlflow.log_metric("accuracy", score(C, kernel))
        >>> s = nbstudio.sweep(  # doctest: +SKIP
        ...     train,
        ...     {"C": "loguniform(1e-3, 1e2)", "kernel": "choice('linear', 'rbf')"},
        ...     goal="maximize:accuracy",
        ...     sampling="bayesian",
        ...     policy="bandit(slack_factor=0.1)",
        ... )
        >>> s.best.params  # doctest: +SKIP
    """
    if not callable(trial):
        raise SweepError(f"the trial body must be callable, got {type(trial).__name__}")
    limits = {
        "max_total_trials": max_total_trials,
        "max_concurrent_trials": max_concurrent_trials,
        "timeout": timeout,
        "trial_timeout": trial_timeout,
    }
    settings = None
    if space is not None or not resume:
        settings = build_settings(
            space or {},
            goal=goal,
            metric=metric,
            sampling=sampling,
            policy=policy,
            seed=seed,
            **limits,
        )
    parent_run_id = run_sweep(
        trial,
        settings,
        name=name,
        experiment=experiment,
        resume=resume,
        limits=limits,
        executor=executor,
        source=source,
        tags=dict(tags or {}),
        observers=observers,
    )
    return Sweep(parent_run_id)


def build_settings(
    space: Mapping[str, Any],
    *,
    goal: str | None,
    metric: str | None = None,
    sampling: str | None = None,
    policy: str | EarlyTerminationPolicy | None = None,
    max_total_trials: int | None = None,
    max_concurrent_trials: int | None = None,
    timeout: str | float | None = None,
    trial_timeout: str | float | None = None,
    seed: int | None = None,
) -> SweepSettings:
    """Validated `SweepSettings` from user-facing arguments (None means the default)."""
    if goal is None:
        raise SweepError('a sweep needs a goal, e.g. goal="maximize:accuracy"')
    if ":" in goal:
        if metric is not None:
            raise SweepError(f"goal {goal!r} already names the metric; drop metric={metric!r}")
        direction, metric = parse_goal(goal)
    else:
        direction = goal
        if direction.lower() not in ("maximize", "minimize", "max", "min"):
            parse_goal(goal)  # raises: expected maximize:METRIC or minimize:METRIC
        if metric is None:
            raise SweepError(f'goal {goal!r} needs a metric, e.g. goal="{goal}:accuracy"')
    distributions, fixed = parse_space(space)
    return SweepSettings.create(
        metric=metric,
        goal=direction,
        space=distributions,
        fixed=fixed,
        sampling=sampling or "random",
        policy=policy,
        max_total_trials=(
            DEFAULT_MAX_TOTAL_TRIALS if max_total_trials is None else max_total_trials
        ),
        max_concurrent_trials=1 if max_concurrent_trials is None else max_concurrent_trials,
        timeout=timeout,
        trial_timeout=trial_timeout,
        seed=seed,
    )
