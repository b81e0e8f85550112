"""``nbstudio.automl(X, y, ...)``: Azure's automated ML job, here or on a compute target."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from nbstudio.automl.job import run_job
from nbstudio.automl.result import AutoMLResult
from nbstudio.automl.settings import AutoMLSettings


def automl(
    X: Any,
    y: Any,
    *,
    task: str = "classification",
    primary_metric: str | None = None,
    timeout: str | float | None = None,
    trial_timeout: str | float | None = None,
    max_trials: int | None = None,
    early_stop: bool = False,
    estimators: Sequence[str] | str | None = None,
    seed: int = 0,
    X_test: Any = None,
    y_test: Any = None,
    register: str | None = None,
    aliases: Sequence[str] = (),
    compute: str | None = None,
    name: str | None = None,
    experiment: str | None = None,
    on_start: Callable[[str], None] | None = None,
) -> AutoMLResult:
    """Search models for ``(X, y)`` with FLAML and record the job in MLflow.

    Args:
        task: ``classification`` or ``regression``.
        primary_metric: Azure's name, any case: ``accuracy``, ``AUC_weighted``,
            ``average_precision_score_weighted``, ``norm_macro_recall``,
            ``precision_score_weighted`` (classification); ``r2_score``,
            ``normalized_root_mean_squared_error``, ``normalized_mean_absolute_error``,
            ``spearman_correlation`` (regression).
        timeout: the job's time limit (seconds, or ``"5m"``); 60 s when neither it nor
            ``max_trials`` is given. trial_timeout: each trial's training time limit.
        max_trials: at most this many trials. early_stop: stop once the search has converged.
        estimators: FLAML names, e.g. ``["lgbm", "rf", "extra_tree", "lrl1"]`` (default: FLAML's).
        seed: FLAML's seed (same seed and ``max_trials``: same trials).
        X_test, y_test: evaluate the best model on them (metrics and plots on the parent run).
        register: register the best model under this name, with ``aliases``.
        compute: run the whole job on a node of this Dask compute target.
        name: the parent run's name. experiment: default: the session's.
        on_start: called with the parent run's id once it exists (in this kernel only).

    Returns an `AutoMLResult`: ``.leaderboard``, ``.best``, ``.model``,
    ``.best_per_estimator["rf"]``, ``.evaluate(X_test, y_test)``.

    Example:
        >>> res = nbstudio.automl(
        ...     X, y, primary_metric="AUC_weighted", timeout="30s"
        ... )  # doctest: +SKIP
        >>> res.leaderboard.head()  # doctest: +SKIP
    """
    settings = AutoMLSettings.create(
        task=task,
        primary_metric_name=primary_metric,
        timeout=timeout,
        trial_timeout=trial_timeout,
        max_trials=max_trials,
        early_stop=early_stop,
        estimators=estimators,
        seed=seed,
    )
    options = {
        "name": name,
        "experiment": experiment,
        "register": register,
        "aliases": tuple(aliases),
        "X_test": X_test,
        "y_test": y_test,
    }
    if compute and compute != "local":
        return _on_compute(compute, X, y, settings, options)
    return run_job(X, y, settings, on_start=on_start, **options)


def _on_compute(
    target: str, X: Any, y: Any, settings: AutoMLSettings, options: dict[str, Any]
) -> AutoMLResult:
    """The job on a node of ``target``; an interrupt here stops it there (parent KILLED)."""
    from nbstudio.compute.executor import executor_for

    executor = executor_for(target)
    handle = executor.submit(run_job, X, y, settings, **options)
    try:
        return handle.result()
    except KeyboardInterrupt:
        handle.cancel("interrupted")
        raise
    finally:
        executor.close()
