"""The drift run's plotly figures, saved like `nbstudio.evaluation`'s (``evaluation/*.plotly.json``)
so the panel's run view and the monitor's final state draw them with no code of their own.

- ``drift_heatmap``: feature x statistic, coloured by the value over its threshold (1 = at the
  threshold, capped at 2), the values written in the cells, worst feature on top;
- ``drift_distributions``: the reference and current histograms of the worst features.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nbstudio.drift.statistics import FeatureDrift
from nbstudio.figure_style import PAGE

SHOWN_STATISTICS = ("psi", "jsd", "wasserstein", "ks")
WORST_SHOWN = 4


def severity(result: FeatureDrift, thresholds: dict[str, float]) -> float:
    """How far past its thresholds a feature is: the largest value/threshold (0 if none)."""
    ratios = [
        result.stats[k] / limit
        for k, limit in thresholds.items()
        if k in result.stats and k != "ks_pvalue" and limit > 0 and np.isfinite(limit)
    ]
    return max(ratios, default=0.0)


def heatmap(results: list[FeatureDrift], thresholds: dict[str, float]) -> Any:
    import plotly.graph_objects as go

    ordered = sorted(results, key=lambda r: severity(r, thresholds))  # worst last = on top
    z, text = [], []
    for r in ordered:
        row, labels = [], []
        for key in SHOWN_STATISTICS:
            value = r.stats.get(key)
            limit = thresholds.get(key)
            if value is None:
                row.append(None)
                labels.append("")
                continue
            ratio = value / limit if limit and np.isfinite(limit) else 0.0
            row.append(min(ratio, 2.0))
            labels.append(f"{value:.3g}")
        z.append(row)
        text.append(labels)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(SHOWN_STATISTICS),
            y=[f"{r.name} *" if r.drifted else r.name for r in ordered],
            text=text,
            texttemplate="%{text}",
            zmin=0,
            zmax=2,
            colorscale=[[0, "#f7fbff"], [0.5, "#fdd49e"], [1, "#d7301f"]],
            colorbar={"title": "value / threshold"},
        )
    )
    fig.update_layout(
        title="Drift by feature (* = drifted)",
        xaxis_title="statistic",
        height=max(300, 60 + 24 * len(ordered)),
        **PAGE,
    )
    fig.update_yaxes(type="category", automargin=True)
    return fig


def distributions(results: list[FeatureDrift], thresholds: dict[str, float]) -> Any:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    worst = sorted(results, key=lambda r: -severity(r, thresholds))[:WORST_SHOWN]
    fig = make_subplots(rows=len(worst), cols=1, subplot_titles=[r.name for r in worst])
    for i, r in enumerate(worst, start=1):
        if r.kind == "numeric":
            edges = np.asarray(r.bins, dtype=float)
            x: list[Any] = ((edges[:-1] + edges[1:]) / 2).tolist()
        else:
            x = [str(b) for b in r.bins]
        for label, values, color in (
            ("reference", r.reference, "#1f77b4"),
            ("current", r.current, "#ff7f0e"),
        ):
            fig.add_trace(
                go.Bar(
                    x=x,
                    y=values,
                    name=label,
                    marker_color=color,
                    opacity=0.6,
                    showlegend=i == 1,
                    legendgroup=label,
                ),
                row=i,
                col=1,
            )
    fig.update_layout(
        title="Distributions of the most drifted features (share of rows per bin)",
        barmode="overlay",
        bargap=0,
        height=max(300, 220 * len(worst)),
        **PAGE,
    )
    return fig
