"""An AutoML job's definition, validated once, as FLAML arguments and as the parent run's tags."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nbstudio.automl.errors import AutoMLError
from nbstudio.automl.metrics import PrimaryMetric, check_task, primary_metric
from nbstudio.sweep.errors import SweepError
from nbstudio.sweep.settings import parse_duration

#: A job given neither a timeout nor a trial count stops after this long (Azure: 6 days).
DEFAULT_TIMEOUT = 60.0
TAG_PREFIX = "nbstudio.automl."


def _duration(value: str | float | None, option: str) -> float | None:
    try:
        return parse_duration(value, option)
    except SweepError as exc:
        raise AutoMLError(str(exc)) from None


def known_estimators(task: str) -> list[str]:
    """FLAML's estimator names for ``task`` that run here (not its Spark or NLP ones)."""
    from flaml.automl.task.factory import task_factory

    names = task_factory(task).estimators
    return sorted(n for n in names if not n.endswith("_spark") and not n.startswith("transformer"))


@dataclass(frozen=True)
class AutoMLSettings:
    """What the job searches and within which limits. Construct with `AutoMLSettings.create`."""

    task: str
    metric: PrimaryMetric
    timeout: float | None
    trial_timeout: float | None
    max_trials: int | None
    early_stop: bool
    estimators: tuple[str, ...] | None
    seed: int

    @classmethod
    def create(
        cls,
        task: str = "classification",
        primary_metric_name: str | None = None,
        timeout: str | float | None = None,
        trial_timeout: str | float | None = None,
        max_trials: int | None = None,
        early_stop: bool = False,
        estimators: Sequence[str] | str | None = None,
        seed: int = 0,
    ) -> AutoMLSettings:
        task = check_task(task)
        metric = primary_metric(primary_metric_name, task)
        seconds = _duration(timeout, "--timeout")
        trial_seconds = _duration(trial_timeout, "--trial-timeout")
        if max_trials is not None and (
            isinstance(max_trials, bool) or not isinstance(max_trials, int) or max_trials < 1
        ):
            raise AutoMLError(f"--max-trials must be an integer >= 1, got {max_trials!r}")
        if seconds is None and max_trials is None:
            seconds = DEFAULT_TIMEOUT
        chosen = None
        if estimators is not None:
            if isinstance(estimators, str):
                estimators = [e for e in estimators.split(",") if e.strip()]
            chosen = tuple(e.strip().lower() for e in estimators)
            valid = known_estimators(task)
            unknown = [e for e in chosen if e not in valid]
            if unknown or not chosen:
                raise AutoMLError(
                    f"Unknown estimator {', '.join(unknown) or '(none given)'}: use some of "
                    f"{', '.join(valid)}."
                )
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise AutoMLError(f"--seed must be an integer, got {seed!r}")
        return cls(task, metric, seconds, trial_seconds, max_trials, early_stop, chosen, seed)

    def flaml_args(self) -> dict[str, Any]:
        """Keyword arguments of ``flaml.AutoML.fit``; FLAML's own MLflow logging always off."""
        args: dict[str, Any] = {
            "task": self.task,
            "metric": self.metric.flaml,
            "time_budget": self.timeout if self.timeout is not None else -1,
            "seed": self.seed,
            "early_stop": self.early_stop,
            "mlflow_logging": False,
            "verbose": 0,
            "log_type": "all",
        }
        if self.max_trials is not None:
            args["max_iter"] = self.max_trials
        if self.trial_timeout is not None:
            args["train_time_limit"] = self.trial_timeout
        if self.estimators is not None:
            args["estimator_list"] = list(self.estimators)
        return args

    def tags(self) -> dict[str, str]:
        """The parent run's tags: what was asked, so the run explains itself in ``mlflow ui``."""
        import flaml

        return {
            "nbstudio.kind": "automl",
            TAG_PREFIX + "task": self.task,
            TAG_PREFIX + "primary_metric": self.metric.name,
            TAG_PREFIX + "timeout": "" if self.timeout is None else f"{self.timeout:g}",
            TAG_PREFIX + "trial_timeout": (
                "" if self.trial_timeout is None else f"{self.trial_timeout:g}"
            ),
            TAG_PREFIX + "max_trials": "" if self.max_trials is None else str(self.max_trials),
            TAG_PREFIX + "early_stop": str(self.early_stop).lower(),
            TAG_PREFIX + "estimators": ",".join(self.estimators or ("auto",)),
            TAG_PREFIX + "seed": str(self.seed),
            TAG_PREFIX + "flaml_version": flaml.__version__,
        }
