"""Plotly charts of a sweep: each trial's value with the best so far, and parallel coordinates."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from nbstudio.sweep.settings import SweepSettings
from nbstudio.sweep.space import Choice, LogUniform, Normal

STATE_COLOURS = {
    "finished": "#107c10",
    "killed": "#8a8886",
    "interrupted": "#8a8886",
    "failed": "#d13438",
    "running": "#0078d4",
}


def best_so_far(values: pd.Series, maximize: bool) -> pd.Series:
    """The running best of ``values`` (NaN values skipped)."""
    return values.cummax() if maximize else values.cummin()


def _dimension(name: str, series: pd.Series, settings: SweepSettings) -> dict[str, Any]:
    dist = settings.space[name]
    if isinstance(dist, Choice):
        labels = [repr(v) if not isinstance(v, str) else v for v in dist.values]
        index = {repr(v): i for i, v in enumerate(dist.values)}
        return {
            "label": name,
            "values": [index.get(repr(v), math.nan) for v in series],
            "tickvals": list(range(len(labels))),
            "ticktext": labels,
        }
    numbers = pd.to_numeric(series, errors="coerce")
    logarithmic = isinstance(dist, LogUniform) or (isinstance(dist, Normal) and dist.log)
    if logarithmic and (numbers > 0).all():
        return {"label": f"log10({name})", "values": list(numbers.map(math.log10))}
    return {"label": name, "values": list(numbers)}


def sweep_figure(trials: pd.DataFrame, settings: SweepSettings, title: str = "") -> go.Figure:
    """Best-so-far above, parallel coordinates of params vs the metric below."""
    # No subplot titles: the parallel coordinates print their axis labels exactly where a title
    # of the lower chart would go, and the upper chart's y axis already names the metric.
    fig = make_subplots(
        rows=2,
        cols=1,
        specs=[[{"type": "xy"}], [{"type": "domain"}]],
        row_heights=[0.42, 0.58],
        vertical_spacing=0.2,
    )
    scored = trials[trials["value"].notna()]
    for state, group in scored.groupby("state"):
        fig.add_trace(
            go.Scatter(
                x=group.index,
                y=group["value"],
                mode="markers",
                name=str(state),
                marker={"color": STATE_COLOURS.get(str(state), "#605e5c"), "size": 8},
                customdata=group["run_name"],
                hovertemplate="trial %{x}: %{y}<br>%{customdata}<extra>" + str(state) + "</extra>",
            ),
            row=1,
            col=1,
        )
    finished = scored[scored["state"] == "finished"]["value"].astype(float)
    if not finished.empty:
        fig.add_trace(
            go.Scatter(
                x=finished.index,
                y=best_so_far(finished, settings.maximize),
                mode="lines",
                line={"shape": "hv", "color": "#0078d4"},
                name="best so far",
            ),
            row=1,
            col=1,
        )
    fig.update_xaxes(title_text="trial", row=1, col=1)
    fig.update_yaxes(title_text=settings.metric, row=1, col=1)
    if not scored.empty:
        dimensions = [_dimension(name, scored[name], settings) for name in settings.space]
        dimensions.append({"label": settings.metric, "values": list(scored["value"])})
        fig.add_trace(
            go.Parcoords(
                dimensions=dimensions,
                line={
                    "color": list(scored["value"]),
                    "colorscale": "Viridis",
                    "reversescale": not settings.maximize,
                    "showscale": True,
                    "colorbar": {"title": {"text": settings.metric}},
                },
            ),
            row=2,
            col=1,
        )
        # The colour bar beside the lower chart only, clear of the legend above the upper one.
        low, high = fig.data[-1].domain.y
        fig.data[-1].line.colorbar.update(y=(low + high) / 2, len=high - low)
    fig.update_layout(
        title=title or f"{settings.metric} by trial",
        height=680,
        template="plotly_white",
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 1.0, "yanchor": "bottom"},
        margin={"t": 90},
    )
    return fig
