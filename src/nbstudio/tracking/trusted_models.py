"""Inside a tracked run, scikit-learn models logged without a format are saved with cloudpickle.

MLflow 3 saves scikit-learn models with skops by default, and skops refuses every type outside
its allow-list: FLAML's ``AutoML``, its LightGBM and XGBoost wrappers, many third-party
estimators. FLAML logs to MLflow by itself whenever a run is active, so inside a ``%%mlrun`` cell
its ``fit()`` ended with an ``MlflowException`` from that log call, after the whole time budget
had been spent, and the run ended FAILED. The code of a tracked run is the user's own and its
models were trained in this process, so they are trusted, as nbstudio's registry already treats
them (models/registry.py). A format given explicitly is still honoured.
"""

from __future__ import annotations

import threading
from typing import Any

from nbstudio.tracking import mlflow_private

_lock = threading.Lock()
_depth = 0
_original: Any = None


def _cloudpickle() -> str:
    from mlflow.sklearn import SERIALIZATION_FORMAT_CLOUDPICKLE

    return SERIALIZATION_FORMAT_CLOUDPICKLE


def enter() -> None:
    """Trust models logged from now on (until the matching `leave`); nests."""
    global _depth, _original
    with _lock:
        _depth += 1
        if _depth > 1:
            return
        current = mlflow_private.sklearn_default_format()
        if current is not None and current is not _cloudpickle:  # a later MLflow: leave it
            _original = current
            mlflow_private.set_sklearn_default_format(_cloudpickle)


def leave() -> None:
    """Undo one `enter`; the last one puts MLflow's default back."""
    global _depth, _original
    with _lock:
        _depth = max(0, _depth - 1)
        if _depth or _original is None:
            return
        if mlflow_private.sklearn_default_format() is _cloudpickle:
            mlflow_private.set_sklearn_default_format(_original)
        _original = None
