"""``nbstudio.evaluate(model, X_test, y_test)``: metrics and plotly figures for any model, logged.

For a classifier: accuracy, precision, recall, F1, AUC, average precision, log loss; the confusion
matrix, ROC and precision-recall curves (per class, micro and macro) and calibration. For a
regressor: MAE, MSE, RMSE, r2, normalised errors, Spearman; residuals and predicted against
actual. For both, permutation importance within its budget (`importance`). Metrics go to the run
as MLflow metrics (``test_`` prefix), figures as ``evaluation/<name>.plotly.json`` artifacts.

This never calls ``mlflow.models.evaluate``: its default SHAP explainer took 5-70 s per model
where this takes well under a second without permutation importance. SHAP is opt-in
(``explain="shap"``) when the package is installed.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nbstudio.evaluation import figures, importance, scores
from nbstudio.evaluation.errors import EvaluationError

ARTIFACT_DIR = "evaluation"
FIGURE_SUFFIX = ".plotly.json"
EXPLAINERS = ("shap",)


@dataclass
class Evaluation:
    """What `evaluate` measured and drew, and the run it was logged to."""

    task: str
    metrics: dict[str, float]
    figures: dict[str, Any] = field(repr=False)
    run_id: str | None = None
    seconds: float = 0.0

    @property
    def artifacts(self) -> list[str]:
        return [f"{ARTIFACT_DIR}/{name}{FIGURE_SUFFIX}" for name in self.figures]

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v:.4g}" for k, v in list(self.metrics.items())[:8])
        where = f" logged to run {self.run_id}" if self.run_id else ""
        return (
            f"Evaluation of a {self.task} model in {self.seconds:.2f} s{where}: {shown}; "
            f"figures: {', '.join(self.figures)}"
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{k}</td><td>{v:.4f}</td></tr>" for k, v in sorted(self.metrics.items())
        )
        head = f"<b>Evaluation</b> ({self.task}, {self.seconds:.2f} s)"
        if self.run_id:
            head += f" logged to run <code>{self.run_id}</code>"
        return (
            f"<div>{head}<table>{rows}</table>figures: {', '.join(self.figures)} "
            "(<code>.figures[name].show()</code>)</div>"
        )


def is_classifier(model: Any) -> bool:
    """A classifier by scikit-learn's convention (``_estimator_type``) or by ``predict_proba``."""
    kind = getattr(model, "_estimator_type", None)
    if kind is not None:
        return kind == "classifier"
    return hasattr(model, "predict_proba")


def _classes(model: Any, y: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    classes = getattr(model, "classes_", None)
    if classes is not None:
        return np.asarray(classes)
    return np.unique(np.concatenate([y, predicted]))


def measure(
    model: Any,
    X: Any,
    y: Any,
    *,
    task: str | None = None,
    with_importance: bool = True,
    explain: str | None = None,
) -> tuple[str, dict[str, float], dict[str, Any]]:
    """Compute the metrics and figures of ``model`` on ``(X, y)`` without logging them."""
    if not hasattr(model, "predict"):
        raise EvaluationError(f"A {type(model).__name__} has no predict(): pass a fitted model.")
    if explain is not None and explain not in EXPLAINERS:
        raise EvaluationError(f"--explain {explain!r}: use one of {', '.join(EXPLAINERS)}.")
    y = np.asarray(y).ravel()
    if len(y) == 0:
        raise EvaluationError("Nothing to evaluate: the test set is empty.")
    if task is None:
        task = "classification" if is_classifier(model) else "regression"
    try:
        predicted = np.asarray(model.predict(X)).ravel()
    except Exception as exc:
        raise EvaluationError(
            f"{type(model).__name__}.predict failed on the test set: {exc}"
        ) from None
    if len(predicted) != len(y):
        raise EvaluationError(f"The model predicted {len(predicted)} values for {len(y)} labels.")
    drawn: dict[str, Any] = {}
    if task == "classification":
        classes = _classes(model, y, predicted)
        proba = None
        if hasattr(model, "predict_proba"):
            proba = np.asarray(model.predict_proba(X))
            if proba.ndim != 2 or proba.shape[1] != len(classes):
                proba = None
        measured = scores.classification_scores(y, predicted, proba, classes)
        drawn["confusion_matrix"] = figures.confusion_matrix(y, predicted, classes)
        if proba is not None:
            truth = scores.one_hot(y, classes)
            drawn["roc_curve"] = figures.roc_curves(truth, proba, classes)
            drawn["precision_recall_curve"] = figures.precision_recall_curves(truth, proba, classes)
            drawn["calibration"] = figures.calibration(truth, proba, classes)
    else:
        measured = scores.regression_scores(y, predicted)
        drawn["predicted_vs_actual"] = figures.predicted_vs_actual(y, predicted)
        drawn["residuals"] = figures.residuals(y, predicted)
    if with_importance:
        found = importance.permutation_importance(model, X, y, classifier=task == "classification")
        if found.repeats:
            drawn["permutation_importance"] = figures.permutation_importance(
                found.names, found.means, found.stds
            )
    if explain == "shap":
        drawn["shap_importance"] = _shap_figure(model, X, task)
    return task, measured, drawn


def _shap_figure(model: Any, X: Any, task: str) -> Any:
    try:
        import shap
    except ImportError:
        raise EvaluationError(
            "--explain shap needs the shap package: pip install shap (it is optional)."
        ) from None
    import pandas as pd

    sample = X.iloc[:200] if isinstance(X, pd.DataFrame) else np.asarray(X)[:200]
    predict = model.predict_proba if task == "classification" else model.predict
    explainer = shap.Explainer(predict, sample)
    values = np.abs(np.asarray(explainer(sample[:100]).values))
    means = values.reshape(values.shape[0], values.shape[1], -1).mean(axis=(0, 2))
    names = [str(c) for c in getattr(sample, "columns", [f"x{i}" for i in range(len(means))])]
    fig = figures.permutation_importance(names, means, np.zeros_like(means))
    fig.update_layout(title="SHAP importance (mean |value|)", xaxis_title="mean |SHAP value|")
    return fig


def _target_run(run_id: str | None) -> str:
    import mlflow

    from nbstudio.session import get_session

    if run_id:
        return run_id
    active = mlflow.active_run()
    if active is not None:
        return active.info.run_id
    session = get_session()
    session.workspace  # noqa: B018 - opens the store and points MLflow at it
    if session.last_run_id:
        return session.last_run_id
    client = session.client()
    run = client.create_run(
        session.experiment_id(), run_name="evaluate", tags={"nbstudio.kind": "evaluate"}
    )
    client.set_terminated(run.info.run_id, "FINISHED")
    return run.info.run_id


def log_evaluation(
    run_id: str, metrics: dict[str, float], drawn: dict[str, Any], prefix: str = "test_"
) -> None:
    """Write the metrics (one batch) and the figures (``evaluation/*.plotly.json``) to the run."""
    from mlflow.entities import Metric

    from nbstudio.session import get_session

    client = get_session().client()
    now = int(time.time() * 1000)
    client.log_batch(run_id, metrics=[Metric(prefix + k, v, now, 0) for k, v in metrics.items()])
    with tempfile.TemporaryDirectory(prefix="nbstudio-eval-") as tmp:
        for name, fig in drawn.items():
            Path(tmp, name + FIGURE_SUFFIX).write_text(fig.to_json(), encoding="utf-8")
        client.log_artifacts(run_id, tmp, ARTIFACT_DIR)


def evaluate(
    model: Any,
    X: Any,
    y: Any,
    *,
    run_id: str | None = None,
    task: str | None = None,
    importance: bool = True,
    explain: str | None = None,
    log: bool = True,
    prefix: str = "test_",
) -> Evaluation:
    """Evaluate ``model`` on ``(X, y)`` and log it to a run; see the module docstring.

    The run is ``run_id``, else the active run (inside ``%%mlrun``), else this kernel's last run,
    else a new run named ``evaluate``. ``task`` is guessed from the model (``classification`` for
    anything with ``predict_proba``) unless given.

    Example:
        >>> ev = nbstudio.evaluate(clf, X_test, y_test)  # doctest: +SKIP
        >>> ev.metrics["accuracy"], ev.figures["roc_curve"].show()  # doctest: +SKIP
    """
    started = time.perf_counter()
    from mlflow.exceptions import MlflowException

    task, measured, drawn = measure(
        model, X, y, task=task, with_importance=importance, explain=explain
    )
    target = None
    if log:
        target = _target_run(run_id)
        try:
            log_evaluation(target, measured, drawn, prefix)
        except MlflowException as exc:
            raise EvaluationError(
                f"Cannot log the evaluation to run {target}: {exc.message}"
            ) from None
    return Evaluation(task, measured, drawn, target, time.perf_counter() - started)
