"""AutoML jobs: FLAML searches, MLflow records (parent run, a child run per trial, best model).

This package is itself callable, so ``nbstudio.automl(X, y, ...)`` works whether
``nbstudio.automl`` resolves to the function or (once imported) to this package.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from nbstudio.automl.api import automl
from nbstudio.automl.errors import AutoMLError
from nbstudio.automl.metrics import PRIMARY_METRICS, primary_metric
from nbstudio.automl.result import AutoMLResult

__all__ = ["PRIMARY_METRICS", "AutoMLError", "AutoMLResult", "automl", "primary_metric"]


class _CallableModule(types.ModuleType):
    """Lets ``nbstudio.automl(...)`` call `automl` after the package has been imported."""

    def __call__(self, *args: Any, **kwargs: Any) -> AutoMLResult:
        return automl(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
