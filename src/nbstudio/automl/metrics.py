"""Azure ML's primary-metric names, mapped onto what FLAML optimises.

Azure names its metrics ``AUC_weighted``, ``norm_macro_recall``... and FLAML its own (``roc_auc``,
``r2``) or accepts a function returning a loss to minimise. Names match without regard to case.
A name FLAML knows maps to it; the rest are module-level functions (so they pickle and travel to
a compute target) with FLAML's custom-metric signature. Every function also reports the Azure
value itself, so the child run's metric carries the name the user asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nbstudio.automl.errors import AutoMLError

TASKS = ("classification", "regression")


@dataclass(frozen=True)
class PrimaryMetric:
    """One Azure primary metric: its canonical name, task, and what FLAML optimises."""

    name: str
    task: str
    flaml: str | Callable[..., Any]
    #: True when a higher value is better (every Azure primary metric but the normalised errors).
    higher_is_better: bool = True

    def score_from_loss(self, loss: float) -> float:
        """FLAML minimises a loss: turn its ``best_loss`` back into the metric's own value."""
        if callable(self.flaml):
            return -loss if self.higher_is_better else loss
        return 1.0 - loss if self.higher_is_better else loss


def _proba(estimator: Any, X: Any) -> np.ndarray:
    return np.asarray(estimator.predict_proba(X))


def _binarized(y: Any, labels: Any) -> np.ndarray:
    from sklearn.preprocessing import label_binarize

    binary = label_binarize(np.asarray(y), classes=list(labels))
    if binary.shape[1] == 1:  # two classes: label_binarize gives one column
        binary = np.hstack([1 - binary, binary])
    return binary


def _report(name: str, value: float, higher_is_better: bool) -> tuple[float, dict[str, float]]:
    loss = -value if higher_is_better else value
    return loss, {name: float(value)}


def average_precision_score_weighted(
    X_val: Any, y_val: Any, estimator: Any, labels: Any, *args: Any, **kwargs: Any
) -> tuple[float, dict[str, float]]:
    """Azure's ``average_precision_score_weighted``: AP per class, weighted by support."""
    from sklearn.metrics import average_precision_score

    proba = _proba(estimator, X_val)
    value = average_precision_score(_binarized(y_val, labels), proba, average="weighted")
    return _report("average_precision_score_weighted", value, True)


def norm_macro_recall(
    X_val: Any, y_val: Any, estimator: Any, labels: Any, *args: Any, **kwargs: Any
) -> tuple[float, dict[str, float]]:
    """Azure's ``norm_macro_recall``: macro recall rescaled so chance is 0 and perfect is 1."""
    from sklearn.metrics import recall_score

    recall = recall_score(y_val, estimator.predict(X_val), average="macro")
    chance = 1.0 / max(len(labels), 2)
    return _report("norm_macro_recall", (recall - chance) / (1 - chance), True)


def precision_score_weighted(
    X_val: Any, y_val: Any, estimator: Any, labels: Any, *args: Any, **kwargs: Any
) -> tuple[float, dict[str, float]]:
    """Azure's ``precision_score_weighted``: precision per class, weighted by support."""
    from sklearn.metrics import precision_score

    value = precision_score(y_val, estimator.predict(X_val), average="weighted", zero_division=0)
    return _report("precision_score_weighted", value, True)


def _spread(y: Any) -> float:
    y = np.asarray(y, dtype=float)
    spread = float(y.max() - y.min()) if y.size else 0.0
    return spread or 1.0


def normalized_root_mean_squared_error(
    X_val: Any, y_val: Any, estimator: Any, labels: Any, *args: Any, **kwargs: Any
) -> tuple[float, dict[str, float]]:
    """Azure's ``normalized_root_mean_squared_error``: RMSE divided by the range of y."""
    error = np.asarray(estimator.predict(X_val), dtype=float) - np.asarray(y_val, dtype=float)
    value = float(np.sqrt(np.mean(error**2))) / _spread(y_val)
    return _report("normalized_root_mean_squared_error", value, False)


def normalized_mean_absolute_error(
    X_val: Any, y_val: Any, estimator: Any, labels: Any, *args: Any, **kwargs: Any
) -> tuple[float, dict[str, float]]:
    """Azure's ``normalized_mean_absolute_error``: MAE divided by the range of y."""
    error = np.asarray(estimator.predict(X_val), dtype=float) - np.asarray(y_val, dtype=float)
    value = float(np.mean(np.abs(error))) / _spread(y_val)
    return _report("normalized_mean_absolute_error", value, False)


def spearman_correlation(
    X_val: Any, y_val: Any, estimator: Any, labels: Any, *args: Any, **kwargs: Any
) -> tuple[float, dict[str, float]]:
    """Azure's ``spearman_correlation`` between predictions and actual values."""
    from scipy.stats import spearmanr

    value = spearmanr(np.asarray(y_val), np.asarray(estimator.predict(X_val))).statistic
    return _report("spearman_correlation", 0.0 if np.isnan(value) else float(value), True)


PRIMARY_METRICS: dict[str, PrimaryMetric] = {
    m.name.lower(): m
    for m in (
        PrimaryMetric("accuracy", "classification", "accuracy"),
        PrimaryMetric("AUC_weighted", "classification", "roc_auc_weighted"),
        PrimaryMetric(
            "average_precision_score_weighted", "classification", average_precision_score_weighted
        ),
        PrimaryMetric("norm_macro_recall", "classification", norm_macro_recall),
        PrimaryMetric("precision_score_weighted", "classification", precision_score_weighted),
        PrimaryMetric("r2_score", "regression", "r2"),
        PrimaryMetric(
            "normalized_root_mean_squared_error",
            "regression",
            normalized_root_mean_squared_error,
            higher_is_better=False,
        ),
        PrimaryMetric(
            "normalized_mean_absolute_error",
            "regression",
            normalized_mean_absolute_error,
            higher_is_better=False,
        ),
        PrimaryMetric("spearman_correlation", "regression", spearman_correlation),
    )
}

DEFAULT_METRIC = {"classification": "accuracy", "regression": "r2_score"}


def check_task(task: str) -> str:
    """The task in canonical form; `AutoMLError` listing the valid ones otherwise."""
    canonical = (task or "").strip().lower()
    if canonical not in TASKS:
        raise AutoMLError(f"Unknown task {task!r}: use one of {', '.join(TASKS)}.")
    return canonical


def primary_metric(name: str | None, task: str) -> PrimaryMetric:
    """Azure's primary metric ``name`` (any case) for ``task``, or a one-line error."""
    task = check_task(task)
    if name is None:
        return PRIMARY_METRICS[DEFAULT_METRIC[task].lower()]
    metric = PRIMARY_METRICS.get(str(name).strip().lower())
    valid = [m.name for m in PRIMARY_METRICS.values() if m.task == task]
    if metric is None:
        raise AutoMLError(
            f"Unknown primary metric {name!r} for {task}: use one of {', '.join(valid)}."
        )
    if metric.task != task:
        raise AutoMLError(
            f"{metric.name} is a {metric.task} metric; for {task} use one of {', '.join(valid)}."
        )
    return metric
