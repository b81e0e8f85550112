"""The look shared by every plotly figure nbstudio records (evaluation charts, drift figures).

No plotly template: building "plotly_white" costs 0.1 s per figure; a plain white background with
light grid lines looks the same and the panel applies its theme anyway. Plain dicts, so importing
this costs nothing (plotly loads only where a figure is built).
"""

from __future__ import annotations

GRID = {"gridcolor": "#e5e5e5", "zerolinecolor": "#cccccc"}
# Background and margins: for figures whose axes are their own (heat maps, subplots).
PAGE = {
    "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
    "paper_bgcolor": "white",
    "plot_bgcolor": "white",
}
# A chart with one x and one y axis.
LAYOUT = {**PAGE, "xaxis": GRID, "yaxis": GRID}
