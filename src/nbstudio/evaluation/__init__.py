"""Evaluation of any classifier or regressor: metrics and plotly figures, logged to a run.

Callable like ``nbstudio.automl``: ``nbstudio.evaluate(model, X_test, y_test)``.
"""

from __future__ import annotations

from nbstudio.evaluation.api import Evaluation, evaluate
from nbstudio.evaluation.errors import EvaluationError

__all__ = ["Evaluation", "EvaluationError", "evaluate"]
