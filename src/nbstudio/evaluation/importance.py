"""Permutation importance within a budget: at most 3 repeats, 2,000 rows and 5 seconds.

scikit-learn's ``permutation_importance`` cannot stop on time, and on a slow model it took longer
than everything else in an evaluation together. This loop shuffles one column at a time, checks
the clock before each, and stops when the budget is spent: every feature gets at least the repeats
that fit, and the result says how many were done.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

MAX_REPEATS = 3
MAX_ROWS = 2000
MAX_SECONDS = 5.0


@dataclass
class Importance:
    """Mean and spread of the score drop per feature, and how much of the budget was used."""

    names: list[str]
    means: np.ndarray
    stds: np.ndarray
    repeats: int
    seconds: float
    complete: bool


def _score(model: Any, X: Any, y: np.ndarray, classifier: bool) -> float:
    predicted = np.asarray(model.predict(X))
    if classifier:
        return float(np.mean(predicted == y))
    from sklearn.metrics import r2_score

    return float(r2_score(y, predicted.astype(float)))


def _shuffled(X: Any, column: int, rng: np.random.Generator) -> Any:
    order = rng.permutation(len(X))
    if isinstance(X, pd.DataFrame):
        copy = X.copy()
        copy.iloc[:, column] = X.iloc[order, column].to_numpy()
        return copy
    copy = np.array(X, copy=True)
    copy[:, column] = copy[order, column]
    return copy


def permutation_importance(
    model: Any,
    X: Any,
    y: Any,
    classifier: bool,
    repeats: int = MAX_REPEATS,
    max_rows: int = MAX_ROWS,
    budget: float = MAX_SECONDS,
    seed: int = 0,
) -> Importance:
    """Score drop (accuracy or r2) when each feature is shuffled; see the module docstring."""
    started = time.monotonic()
    rng = np.random.default_rng(seed)
    y = np.asarray(y)
    if len(y) > max_rows:
        keep = np.sort(rng.choice(len(y), max_rows, replace=False))
        X = X.iloc[keep] if isinstance(X, pd.DataFrame) else np.asarray(X)[keep]
        y = y[keep]
    names = (
        [str(c) for c in X.columns]
        if isinstance(X, pd.DataFrame)
        else [f"x{i}" for i in range(np.asarray(X).shape[1])]
    )
    baseline = _score(model, X, y, classifier)
    drops: list[list[float]] = [[] for _ in names]
    done = 0
    complete = True
    for _ in range(min(repeats, MAX_REPEATS)):
        for column in range(len(names)):
            if time.monotonic() - started > budget:
                complete = False
                break
            drops[column].append(baseline - _score(model, _shuffled(X, column, rng), y, classifier))
        if not complete:
            break
        done += 1
    means = np.array([np.mean(d) if d else np.nan for d in drops])
    stds = np.array([np.std(d) if d else np.nan for d in drops])
    return Importance(names, means, stds, done, time.monotonic() - started, complete)
