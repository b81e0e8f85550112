"""A pipeline's graph as an SVG picture: what ``wine.show()`` draws in the notebook.

Layered layout (a step's column is its longest path from a source), edges as curves, nodes
coloured by state when a run is shown. SVG needs no widget and no JavaScript, so the picture
stays in the saved notebook, in nbconvert and on GitHub.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

NODE_W, NODE_H, GAP_X, GAP_Y, PAD = 196, 46, 56, 22, 12
COLOURS = {
    "pending": "#f3f2f1",
    "running": "#cfe4fa",
    "finished": "#dff6dd",
    "reused": "#e8f5e9",
    "failed": "#fde7e9",
    "skipped": "#f3f2f1",
    "not-started": "#f3f2f1",
}
BORDERS = {"running": "#0078d4", "finished": "#107c10", "reused": "#107c10", "failed": "#d13438"}


def layout(graph_json: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """Step name -> (x, y) of its box's top-left corner."""
    steps = {s["name"]: s for s in graph_json["steps"]}
    depth: dict[str, int] = {}

    def depth_of(name: str) -> int:
        if name not in depth:
            depth[name] = 0  # a guard: the graph is acyclic by construction
            ups = [u for u in steps[name]["upstream"] if u in steps]
            depth[name] = 1 + max((depth_of(u) for u in ups), default=-1)
        return depth[name]

    columns: dict[int, list[str]] = {}
    for name in steps:
        columns.setdefault(depth_of(name), []).append(name)
    tallest = max(len(c) for c in columns.values())
    places = {}
    for column, names in columns.items():
        offset = (tallest - len(names)) * (NODE_H + GAP_Y) / 2
        for row, name in enumerate(names):
            places[name] = (
                PAD + column * (NODE_W + GAP_X),
                PAD + offset + row * (NODE_H + GAP_Y),
            )
    return places


@dataclass
class GraphView:
    """The graph (and, for a run, each step's state); shown as SVG by Jupyter."""

    graph: dict[str, Any]
    states: dict[str, str] | None = None
    title: str = ""

    def to_svg(self) -> str:
        places = layout(self.graph)
        width = max(x for x, _ in places.values()) + NODE_W + PAD
        height = max(y for _, y in places.values()) + NODE_H + PAD
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="12">',
            '<defs><marker id="nbs-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
            'markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" '
            'fill="#605e5c"/></marker></defs>',
        ]
        for edge in self.graph["edges"]:
            x1, y1 = places[edge["from"]]
            x2, y2 = places[edge["to"]]
            x1, y1, y2 = x1 + NODE_W, y1 + NODE_H / 2, y2 + NODE_H / 2
            mid = (x1 + x2) / 2
            parts.append(
                f'<path d="M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} {mid:.0f},{y2:.0f} '
                f'{x2:.0f},{y2:.0f}" fill="none" stroke="#8a8886" marker-end="url(#nbs-arrow)">'
                f"<title>{html.escape(edge['from'])}.{html.escape(edge['output'])} → "
                f"{html.escape(edge['to'])}({html.escape(edge['input'])})</title></path>"
            )
        for step in self.graph["steps"]:
            x, y = places[step["name"]]
            state = (self.states or {}).get(step["name"], "pending")
            fill = COLOURS.get(state, "#f3f2f1")
            border = BORDERS.get(state, "#8a8886")
            label = step["name"] if len(step["name"]) <= 26 else step["name"][:25] + "…"
            sub = state if self.states else ", ".join(step["outputs"])
            if state == "reused":
                sub = "♻ reused"
            parts.append(
                f'<g class="nbstudio-step" data-step="{html.escape(step["name"])}">'
                f'<rect x="{x:.0f}" y="{y:.0f}" width="{NODE_W}" height="{NODE_H}" rx="6" '
                f'fill="{fill}" stroke="{border}" stroke-width="1.5"/>'
                f'<text x="{x + 10:.0f}" y="{y + 19:.0f}" font-weight="600">'
                f"{html.escape(label)}</text>"
                f'<text x="{x + 10:.0f}" y="{y + 36:.0f}" fill="#605e5c">'
                f"{html.escape(sub[:28])}</text><title>{html.escape(step['name'])}</title></g>"
            )
        parts.append("</svg>")
        return "".join(parts)

    def _repr_svg_(self) -> str:
        return self.to_svg()

    def _repr_html_(self) -> str:
        # Inline, so the page can read the steps (JupyterLab shows image/svg+xml as an <img>).
        return f'<div class="nbstudio-pipeline-graph">{self.to_svg()}</div>'

    def __repr__(self) -> str:
        lines = [self.title or "pipeline"]
        for step in self.graph["steps"]:
            ups = ", ".join(step["upstream"]) or "-"
            state = f" [{self.states.get(step['name'], '?')}]" if self.states else ""
            lines.append(f"  {step['name']} <- {ups}{state}")
        return "\n".join(lines)
