"""The numbers of an evaluation: scikit-learn metrics for classifiers and regressors.

The names follow Azure ML's (``AUC_weighted``, ``norm_macro_recall``,
``normalized_mean_absolute_error``) so a model's evaluation reads like the AutoML job that chose it.
Every value is a plain float, ready to be logged as an MLflow metric.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def _finite(values: dict[str, float]) -> dict[str, float]:
    return {k: float(v) for k, v in values.items() if v is not None and math.isfinite(float(v))}


def one_hot(y: Any, classes: np.ndarray) -> np.ndarray:
    """``y`` as one column per class (two columns for two classes, unlike label_binarize)."""
    from sklearn.preprocessing import label_binarize

    binary = label_binarize(np.asarray(y), classes=list(classes))
    if len(classes) == 2:
        binary = np.hstack([1 - binary, binary])
    return binary


def classification_scores(
    y: np.ndarray, predicted: np.ndarray, proba: np.ndarray | None, classes: np.ndarray
) -> dict[str, float]:
    """Accuracy, precision, recall, F1 (weighted and macro), balanced accuracy, norm macro recall,
    and with probabilities AUC (weighted, macro, micro), average precision and log loss."""
    from sklearn import metrics as m

    scores: dict[str, Any] = {
        "accuracy": m.accuracy_score(y, predicted),
        "balanced_accuracy": m.balanced_accuracy_score(y, predicted),
    }
    for average in ("weighted", "macro"):
        scores[f"precision_score_{average}"] = m.precision_score(
            y, predicted, average=average, zero_division=0
        )
        scores[f"recall_score_{average}"] = m.recall_score(
            y, predicted, average=average, zero_division=0
        )
        scores[f"f1_score_{average}"] = m.f1_score(y, predicted, average=average, zero_division=0)
    chance = 1.0 / max(len(classes), 2)
    scores["norm_macro_recall"] = (scores["recall_score_macro"] - chance) / (1 - chance)
    if proba is not None and len(classes) >= 2:
        truth = one_hot(y, classes)
        present = truth.sum(axis=0) > 0
        if present.all():
            for average in ("weighted", "macro", "micro"):
                scores[f"AUC_{average}"] = m.roc_auc_score(truth, proba, average=average)
            scores["average_precision_score_weighted"] = m.average_precision_score(
                truth, proba, average="weighted"
            )
        scores["log_loss"] = m.log_loss(y, proba, labels=list(classes))
    return _finite(scores)


def regression_scores(y: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """MAE, MSE, RMSE, r2, the normalised errors and Spearman correlation (Azure's names)."""
    from scipy.stats import spearmanr
    from sklearn import metrics as m

    y = np.asarray(y, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    mse = m.mean_squared_error(y, predicted)
    mae = m.mean_absolute_error(y, predicted)
    spread = float(y.max() - y.min()) or 1.0
    scores = {
        "mean_absolute_error": mae,
        "mean_squared_error": mse,
        "root_mean_squared_error": math.sqrt(mse),
        "r2_score": m.r2_score(y, predicted) if len(y) > 1 else math.nan,
        "normalized_mean_absolute_error": mae / spread,
        "normalized_root_mean_squared_error": math.sqrt(mse) / spread,
        "spearman_correlation": spearmanr(y, predicted).statistic if len(y) > 1 else math.nan,
    }
    return _finite(scores)
