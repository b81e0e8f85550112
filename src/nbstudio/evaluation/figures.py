"""Plotly figures of an evaluation: one function per chart, each a pure function of the numbers.

Figures are saved as ``evaluation/<name>.plotly.json`` artifacts (plotly's own JSON), which the
panel's run view and the monitor draw, and ``plotly.io.read_json`` reads back. Scatter plots keep
at most `MAX_POINTS` points, so a figure stays small whatever the size of the test set.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from nbstudio.figure_style import LAYOUT

MAX_POINTS = 2000


def _figure(title: str, x_title: str, y_title: str, **layout: Any) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title, **LAYOUT, **layout)
    return fig


def _diagonal(fig: go.Figure, low: float = 0.0, high: float = 1.0, name: str = "chance") -> None:
    fig.add_trace(
        go.Scatter(
            x=[low, high], y=[low, high], mode="lines", name=name, line={"dash": "dash", "width": 1}
        )
    )


def confusion_matrix(y: np.ndarray, predicted: np.ndarray, classes: np.ndarray) -> go.Figure:
    """Counts of actual (rows) against predicted (columns) classes, with counts in the cells."""
    from sklearn.metrics import confusion_matrix as counts

    matrix = counts(y, predicted, labels=list(classes))
    labels = [str(c) for c in classes]
    fig = _figure("Confusion matrix", "Predicted", "Actual")
    fig.add_trace(
        go.Heatmap(
            z=matrix,
            x=labels,
            y=labels,
            text=matrix,
            texttemplate="%{text}",
            colorscale="Blues",
            showscale=False,
        )
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    return fig


def _curves(truth: np.ndarray, proba: np.ndarray, classes: np.ndarray, kind: str) -> go.Figure:
    from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_curve

    roc = kind == "roc"
    title = "ROC curve" if roc else "Precision-recall curve"
    fig = _figure(
        title,
        "False positive rate" if roc else "Recall",
        "True positive rate" if roc else "Precision",
    )
    # Two classes: the positive class tells the whole story.
    shown = [1] if len(classes) == 2 else range(len(classes))
    grid = np.linspace(0, 1, 101)
    per_class = []
    for i in shown:
        if truth[:, i].sum() == 0:
            continue
        if roc:
            x, y, _ = roc_curve(truth[:, i], proba[:, i])
            area = auc(x, y)
            per_class.append(np.interp(grid, x, y))
        else:
            y, x, _ = precision_recall_curve(truth[:, i], proba[:, i])
            area = average_precision_score(truth[:, i], proba[:, i])
            per_class.append(np.interp(grid, x[::-1], y[::-1]))
        label = "AUC" if roc else "AP"
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=f"{classes[i]} ({label} {area:.3f})"))
    if len(classes) > 2:
        if roc:
            x, y, _ = roc_curve(truth.ravel(), proba.ravel())
            micro = auc(x, y)
        else:
            y, x, _ = precision_recall_curve(truth.ravel(), proba.ravel())
            micro = average_precision_score(truth.ravel(), proba.ravel())
        fig.add_trace(
            go.Scatter(x=x, y=y, mode="lines", name=f"micro ({micro:.3f})", line={"width": 3})
        )
        if per_class:
            macro = np.mean(per_class, axis=0)
            fig.add_trace(
                go.Scatter(
                    x=grid,
                    y=macro,
                    mode="lines",
                    name=f"macro ({float(np.trapezoid(macro, grid)):.3f})",
                    line={"width": 3, "dash": "dot"},
                )
            )
    if roc:
        _diagonal(fig)
    fig.update_xaxes(range=[0, 1])
    fig.update_yaxes(range=[0, 1.02])
    return fig


def roc_curves(truth: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> go.Figure:
    """ROC per class (the positive class for two), micro and macro averages for more."""
    return _curves(truth, proba, classes, "roc")


def precision_recall_curves(truth: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> go.Figure:
    """Precision-recall per class (the positive class for two), micro and macro averages."""
    return _curves(truth, proba, classes, "pr")


def calibration(
    truth: np.ndarray, proba: np.ndarray, classes: np.ndarray, bins: int = 10
) -> go.Figure:
    """Mean predicted probability against the observed frequency, per class (positive for two)."""
    from sklearn.calibration import calibration_curve

    fig = _figure("Calibration", "Mean predicted probability", "Fraction of positives")
    shown = [1] if len(classes) == 2 else range(min(len(classes), 10))
    for i in shown:
        if truth[:, i].sum() == 0:
            continue
        observed, predicted = calibration_curve(truth[:, i], proba[:, i], n_bins=bins)
        fig.add_trace(
            go.Scatter(x=predicted, y=observed, mode="lines+markers", name=str(classes[i]))
        )
    _diagonal(fig, name="perfectly calibrated")
    return fig


def _sample(count: int) -> np.ndarray:
    if count <= MAX_POINTS:
        return np.arange(count)
    return np.sort(np.random.default_rng(0).choice(count, MAX_POINTS, replace=False))


def predicted_vs_actual(y: np.ndarray, predicted: np.ndarray) -> go.Figure:
    """Each prediction against its true value; the diagonal is a perfect model."""
    y, predicted = np.asarray(y, dtype=float), np.asarray(predicted, dtype=float)
    keep = _sample(len(y))
    fig = _figure("Predicted vs actual", "Actual", "Predicted")
    fig.add_trace(
        go.Scatter(
            x=y[keep],
            y=predicted[keep],
            mode="markers",
            name="test rows",
            marker={"size": 5, "opacity": 0.6},
        )
    )
    low, high = float(min(y.min(), predicted.min())), float(max(y.max(), predicted.max()))
    _diagonal(fig, low, high, name="ideal")
    return fig


def residuals(y: np.ndarray, predicted: np.ndarray) -> go.Figure:
    """Residuals (actual - predicted) against the prediction, and their distribution."""
    from plotly.subplots import make_subplots

    y, predicted = np.asarray(y, dtype=float), np.asarray(predicted, dtype=float)
    error = y - predicted
    keep = _sample(len(y))
    fig = make_subplots(
        rows=1, cols=2, column_widths=[0.65, 0.35], subplot_titles=("vs predicted", "histogram")
    )
    fig.add_trace(
        go.Scatter(
            x=predicted[keep],
            y=error[keep],
            mode="markers",
            name="residual",
            marker={"size": 5, "opacity": 0.6},
        ),
        row=1,
        col=1,
    )
    fig.add_trace(go.Histogram(x=error, name="count", nbinsx=30), row=1, col=2)
    fig.update_xaxes(title_text="Predicted", row=1, col=1)
    fig.update_yaxes(title_text="Actual - predicted", row=1, col=1)
    fig.update_layout(title="Residuals", showlegend=False, **LAYOUT)
    return fig


def permutation_importance(
    names: list[str], means: np.ndarray, stds: np.ndarray, top: int = 20
) -> go.Figure:
    """The drop in score when each feature is shuffled, the largest `top` of them."""
    order = np.argsort(means)[::-1][:top][::-1]
    fig = _figure(
        "Permutation importance",
        "Score drop when shuffled",
        "",
        height=max(300, 22 * len(order) + 100),
    )
    fig.add_trace(
        go.Bar(
            x=means[order],
            y=[names[i] for i in order],
            error_x={"type": "data", "array": stds[order]},
            orientation="h",
            name="importance",
        )
    )
    return fig
