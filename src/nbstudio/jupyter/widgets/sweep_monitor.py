"""SweepMonitor: a sweep as it runs, built on the run monitor of its parent run.

The parent run's metric is the best value so far (the controller logs it whenever the best
improves), so the run monitor's chart of it is the best-so-far chart. On top, the sweep monitor
shows trials by state as a progress bar (queued, running, finished, killed, failed), the best
trial's value and params, a live parallel-coordinates chart of params against the metric, and the
trials table. Like `RunMonitor` it does no I/O: `LiveMonitor` polls the store and calls `apply`.
"""

from __future__ import annotations

import html
import math
from typing import Any

import ipywidgets as widgets
from traitlets import Dict, Float, Int, TraitError, Unicode, validate

from nbstudio.jupyter.widgets import static
from nbstudio.jupyter.widgets.run_monitor import RunMonitor, plotly_imported
from nbstudio.tracking.changes import ChildRun, RunChanges
from nbstudio.tracking.result import format_duration, format_params, format_value

STATE_COLOURS = {
    "finished": "#107c10",
    "running": "#0078d4",
    "killed": "#8a8886",
    "failed": "#d13438",
    "queued": "#e1dfdd",
}
# A FigureWidget's state carries plotly.js (5 MB) and nbclient keeps every widget's last state in
# the executed notebook: once the output is static, the parcoords figure's module is emptied.
EMPTY_ESM = "export default { render() {} };"
_STATE_OF_STATUS = {
    "FINISHED": "finished",
    "KILLED": "killed",
    "FAILED": "failed",
    "RUNNING": "running",
    "SCHEDULED": "queued",
}


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _trial_number(child: ChildRun) -> int:
    tail = child.name.rsplit("_", 1)[-1]
    return int(tail) if tail.isdigit() else 10**9


class SweepMonitor(RunMonitor):
    """Live view of a sweep (its parent run and trials); `apply` a `RunChanges` of the parent."""

    primary_metric = Unicode(help="The sweep's primary metric.").tag(sync=True)
    goal = Unicode("maximize", help="maximize or minimize.").tag(sync=True)
    max_total_trials = Int(20, help="The sweep's max_total_trials.").tag(sync=True)
    counts = Dict(help="Trials by state: queued, running, finished, killed, failed.").tag(sync=True)
    best_value = Float(None, allow_none=True, help="The best trial's metric value.").tag(sync=True)
    best_params = Dict(help="The best trial's params (as logged).").tag(sync=True)
    best_run_id = Unicode(help="The best trial's run id.").tag(sync=True)
    settings_text = Unicode(help="Goal, metric, sampling and policy in one line.").tag(sync=True)

    @validate("goal")
    def _check_goal(self, proposal: Any) -> str:
        if proposal["value"] not in ("maximize", "minimize"):
            raise TraitError(f"goal must be maximize or minimize, got {proposal['value']!r}")
        return proposal["value"]

    def __init__(
        self,
        run_id: str,
        primary_metric: str,
        goal: str = "maximize",
        max_total_trials: int = 20,
        param_names: list[str] | None = None,
        settings_text: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(run_id, **kwargs)
        self.settings_text = settings_text
        self.primary_metric = primary_metric
        self.goal = goal
        self.max_total_trials = max_total_trials
        self.param_names = list(param_names or [])
        self._progress_html = widgets.HTML()
        self._best_html = widgets.HTML()
        self._parcoords_box = widgets.Box(layout=widgets.Layout(width="100%"))
        self.parcoords: Any = None  # plotly FigureWidget, made when the first trial has a value
        self._scored = 0
        parts = list(self.children)
        parts[1:1] = [self._progress_html, self._best_html]
        parts.insert(parts.index(self._chart_box) + 1, self._parcoords_box)
        self.children = tuple(parts)
        self.add_class("nbstudio-sweep-monitor")
        self._update_sweep()

    def apply(self, changes: RunChanges) -> None:
        super().apply(changes)
        if changes.children or changes.ended:
            self._update_sweep()

    # -- the sweep's state, from the trials ----------------------------------------------------
    def _scored_trials(self) -> list[tuple[ChildRun, float]]:
        scored = []
        for child in self.child_runs.values():
            value = child.metrics.get(self.primary_metric)
            if (
                value is not None
                and math.isfinite(value)
                and child.status in ("FINISHED", "KILLED")
            ):
                scored.append((child, value))
        return scored

    def _best(self) -> tuple[ChildRun, float] | None:
        sign = 1 if self.goal == "maximize" else -1
        ranked = [((c.status == "FINISHED", sign * v), c, v) for c, v in self._scored_trials()]
        if not ranked:
            return None
        _, child, value = max(ranked, key=lambda r: r[0])
        return child, value

    def _update_sweep(self) -> None:
        counts = dict.fromkeys(STATE_COLOURS, 0)
        for child in self.child_runs.values():
            counts[_STATE_OF_STATUS.get(child.status, "running")] += 1
        started = sum(counts.values())
        counts["queued"] = 0 if self.ended else max(0, self.max_total_trials - started)
        best = self._best()
        with self.hold_sync():
            self.counts = counts
            if best is not None:
                child, value = best
                self.best_value, self.best_run_id = value, child.run_id
                self.best_params = {
                    k: v
                    for k, v in child.params.items()
                    if not self.param_names or k in self.param_names
                }
        self._progress_html.value = self.progress_html()
        self._best_html.value = self.best_html()
        scored = self._scored_trials()
        if self.live_charts and len(scored) != self._scored:
            self._scored = len(scored)
            self._draw_parcoords(scored)

    # -- rendering -----------------------------------------------------------------------------
    def progress_html(self) -> str:
        """A bar of trials by state, with the counts beside it."""
        total = max(1, sum(self.counts.values()))
        bar = "".join(
            f'<div title="{n} {state}" style="width:{100 * n / total:.2f}%;'
            f'background:{STATE_COLOURS[state]}"></div>'
            for state, n in self.counts.items()
            if n
        )
        legend = " · ".join(f"{n} {state}" for state, n in self.counts.items() if n)
        done = sum(self.counts.get(s, 0) for s in ("finished", "killed", "failed"))
        return (
            '<div class="nbstudio-sweep-progress">'
            f'<div style="display:flex;height:10px;border-radius:3px;overflow:hidden;'
            f'background:#f3f2f1">{bar}</div>'
            f"<div><b>{done}/{self.max_total_trials}</b> trials: {html.escape(legend)}</div>"
            f"{self._settings_html()}</div>"
        )

    def _settings_html(self) -> str:
        if not self.settings_text:
            return ""
        return (
            '<div class="nbstudio-sweep-settings" style="color:#605e5c;font-size:0.9em">'
            f"{html.escape(self.settings_text)}</div>"
        )

    def best_html(self) -> str:
        if self.best_value is None:
            return "<div>best: no trial has reported yet</div>"
        params = format_params(self.best_params, "sorted")
        return (
            f"<div>best {html.escape(self.primary_metric)} ({self.goal}) = "
            f"<b>{html.escape(format_value(self.best_value))}</b> "
            f"<span>{html.escape(params)}</span></div>"
        )

    def children_html(self, now_ms: int | None = None) -> str:
        """The trials table: number, state, metric value, params, duration."""
        rows = []
        for child in sorted(self.child_runs.values(), key=_trial_number):
            state = _STATE_OF_STATUS.get(child.status, "running")
            value = child.metrics.get(self.primary_metric)
            params = format_params(child.params, "sorted")
            number = _trial_number(child)
            rows.append(
                f'<tr data-state="{state}"><td>{number if number < 10**9 else ""}</td>'
                f'<td style="color:{STATE_COLOURS[state]}">{state}</td>'
                f"<td>{'' if value is None else html.escape(format_value(value))}</td>"
                f"<td>{html.escape(params)}</td>"
                f"<td>{html.escape(format_duration(child.duration(now_ms)))}</td></tr>"
            )
        if not rows:
            return ""
        metric = html.escape(self.primary_metric)
        return (
            '<table class="nbstudio-sweep-trials"><tr><th>trial</th><th>state</th>'
            f"<th>{metric}</th><th>params</th><th>duration</th></tr>{''.join(rows)}</table>"
        )

    def _dimensions(self, scored: list[tuple[ChildRun, float]]) -> list[dict[str, Any]]:
        names = self.param_names or sorted({k for c, _ in scored for k in c.params})
        dimensions = []
        for name in names:
            texts = [c.params.get(name, "") for c, _ in scored]
            numbers = [_number(t) for t in texts]
            if all(n is not None for n in numbers):
                values = list(numbers)
                spread = [v for v in values if v is not None and v > 0]
                if len(spread) == len(values) and max(spread) / min(spread) >= 100:
                    dimensions.append(
                        {"label": f"log10({name})", "values": [math.log10(v) for v in spread]}
                    )
                    continue
                dimensions.append({"label": name, "values": values})
            else:
                levels = sorted(set(texts))
                dimensions.append(
                    {
                        "label": name,
                        "values": [levels.index(t) for t in texts],
                        "tickvals": list(range(len(levels))),
                        "ticktext": levels,
                    }
                )
        dimensions.append({"label": self.primary_metric, "values": [v for _, v in scored]})
        return dimensions

    def _draw_parcoords(self, scored: list[tuple[ChildRun, float]]) -> None:
        if not scored or (self.parcoords is None and not plotly_imported()):
            return  # plotly is imported on the kernel's thread only (`RunMonitor.prepare`)
        import plotly.graph_objects as go

        line = {
            "color": [v for _, v in scored],
            "colorscale": "Viridis",
            "reversescale": self.goal == "minimize",
            "showscale": True,
        }
        if self.parcoords is None:
            self.parcoords = go.FigureWidget(
                layout={
                    "height": 280,
                    "margin": {"l": 60, "r": 60, "t": 50, "b": 20},
                    "template": "plotly_white",
                }
            )
            self.parcoords.add_parcoords(dimensions=self._dimensions(scored), line=line)
            self.parcoords.add_class("nbstudio-parcoords")
            self._parcoords_box.children = (self.parcoords,)
            return
        with self.parcoords.batch_update():
            self.parcoords.data[0].dimensions = self._dimensions(scored)
            self.parcoords.data[0].line = line

    # -- notebook output -----------------------------------------------------------------------
    def summary_text(self) -> str:
        done = ", ".join(f"{n} {s}" for s, n in self.counts.items() if n)
        lines = [f"Sweep {self.run_name} ({self.run_id}): {self.status}; trials: {done or 'none'}"]
        if self.settings_text:
            lines.append(f"  {self.settings_text}")
        if self.best_value is not None:
            params = format_params(self.best_params, "sorted")
            lines.append(f"  best {self.primary_metric}={format_value(self.best_value)} ({params})")
        return "\n".join(lines)

    def final_bundle(self) -> dict[str, str]:
        bundle = super().final_bundle()
        head = static.box([self.progress_html(), self.best_html()], "nbstudio-sweep-final")
        return {"text/html": head + bundle["text/html"], "text/plain": self.summary_text()}

    def dispose(self) -> None:
        super().dispose()
        for part in (self._progress_html, self._best_html, self._parcoords_box):
            part.close()
        if self.parcoords is not None:
            self.parcoords._esm = EMPTY_ESM
            self.parcoords.close()
