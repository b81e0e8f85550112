"""A run's evaluation figures (``evaluation/*.plotly.json``) drawn as one PNG for static output.

The live monitor's final state is static HTML (so a saved notebook shows it after a restart, in
nbconvert and on GitHub); plotly figures there would need plotly.js or a browser to export them.
The figures nbstudio's evaluation writes use a handful of trace types (heatmap, lines, markers,
horizontal bars, histogram), so matplotlib redraws them from their JSON, one panel per figure
(per subplot for the residuals).
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import numpy as np

from nbstudio.evaluation.api import ARTIFACT_DIR, FIGURE_SUFFIX
from nbstudio.session import Session, get_session
from nbstudio.tracking.downloads import without_progress_bar

#: Panels drawn in the image, in this order when present.
ORDER = (
    "confusion_matrix",
    "roc_curve",
    "precision_recall_curve",
    "calibration",
    "predicted_vs_actual",
    "residuals",
    "permutation_importance",
    "shap_importance",
)


def _array(value: Any) -> np.ndarray:
    """A plotly JSON array: a list, or a typed array ``{"dtype", "bdata", "shape"}``."""
    if isinstance(value, dict) and "bdata" in value:
        data = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        if shape:
            data = data.reshape([int(n) for n in str(shape).split(",")])
        return data
    return np.asarray(value if value is not None else [])


def _title(layout: dict[str, Any]) -> str:
    title = layout.get("title")
    return title.get("text", "") if isinstance(title, dict) else str(title or "")


def _axis_title(layout: dict[str, Any], axis: str) -> str:
    spec = layout.get(axis) or {}
    title = spec.get("title")
    return title.get("text", "") if isinstance(title, dict) else str(title or "")


def _panels(name: str, figure: dict[str, Any]) -> list[tuple[str, list[dict], str, str]]:
    """(title, traces, x title, y title) per subplot of a figure."""
    layout = figure.get("layout") or {}
    by_axis: dict[str, list[dict]] = {}
    for trace in figure.get("data") or []:
        by_axis.setdefault(trace.get("xaxis", "x"), []).append(trace)
    panels = []
    subtitles = [a.get("text", "") for a in layout.get("annotations") or []]
    for index, (axis, traces) in enumerate(sorted(by_axis.items())):
        suffix = axis[1:]
        title = _title(layout)
        if len(by_axis) > 1 and index < len(subtitles):  # make_subplots titles its panels
            title += f" ({subtitles[index]})"
        panels.append(
            (
                title,
                traces,
                _axis_title(layout, f"xaxis{suffix}"),
                _axis_title(layout, f"yaxis{suffix}"),
            )
        )
    return panels


def _draw(ax: Any, traces: list[dict]) -> None:
    labelled = False
    for trace in traces:
        kind = trace.get("type", "scatter")
        label = trace.get("name")
        if kind == "heatmap":
            z = _array(trace.get("z"))
            ax.imshow(z, cmap="Blues")
            labels_x = [str(v) for v in _array(trace.get("x"))]
            labels_y = [str(v) for v in _array(trace.get("y"))]
            ax.set_xticks(range(len(labels_x)), labels_x, fontsize=7)
            ax.set_yticks(range(len(labels_y)), labels_y, fontsize=7)
            for (i, j), value in np.ndenumerate(z):
                colour = "white" if value > z.max() / 2 else "black"
                ax.text(j, i, f"{value:g}", ha="center", va="center", fontsize=8, color=colour)
        elif kind == "bar":
            x, y = _array(trace.get("x")), _array(trace.get("y"))
            ax.barh([str(v) for v in y], x.astype(float), color="#0078d4")
            ax.tick_params(axis="y", labelsize=6)
        elif kind == "histogram":
            ax.hist(_array(trace.get("x")).astype(float), bins=30, color="#0078d4")
        else:
            x, y = _array(trace.get("x")), _array(trace.get("y"))
            mode = trace.get("mode", "lines")
            dash = (trace.get("line") or {}).get("dash")
            if "lines" in mode:
                style = "--" if dash in ("dash", "dot") else "-"
                ax.plot(
                    x,
                    y,
                    style,
                    label=label,
                    linewidth=1.2,
                    marker="o" if "markers" in mode else None,
                    markersize=3,
                )
            else:
                ax.scatter(x, y, s=5, alpha=0.6, label=label)
            labelled = labelled or bool(label)
    if labelled and len(traces) > 1:
        ax.legend(fontsize=6, loc="best")


def figures_png(figures: dict[str, dict[str, Any]]) -> bytes | None:
    """The figures (plotly JSON dicts by name) as one PNG, three panels per row."""
    panels = []
    for name in sorted(figures, key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER)):
        panels += _panels(name, figures[name])
    if not panels:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    columns = min(3, len(panels))
    rows = -(-len(panels) // columns)
    figure = Figure(figsize=(3.6 * columns, 3.0 * rows), dpi=80, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax, (title, traces, x_title, y_title) in zip(axes, panels, strict=False):
        _draw(ax, traces)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(x_title, fontsize=7)
        ax.set_ylabel(y_title, fontsize=7)
        ax.tick_params(labelsize=7)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def evaluation_png(run_id: str, session: Session | None = None) -> bytes | None:
    """The evaluation figures run ``run_id`` logged, as one PNG; None if it logged none."""
    from mlflow.exceptions import MlflowException

    client = (session or get_session()).client()
    try:
        with without_progress_bar():  # no download bars in the cell's output
            entries = client.list_artifacts(run_id, ARTIFACT_DIR)
            figures = {}
            for entry in entries:
                if entry.is_dir or not entry.path.endswith(FIGURE_SUFFIX):
                    continue
                local = client.download_artifacts(run_id, entry.path)
                with open(local, encoding="utf-8") as handle:
                    name = entry.path.rsplit("/", 1)[-1].removesuffix(FIGURE_SUFFIX)
                    figures[name] = json.load(handle)
    except (MlflowException, OSError, ValueError):
        return None
    return figures_png(figures)
