"""RunMonitor: a run as it happens, as an ipywidget (status, elapsed, params, charts, children).

The widget is a view model: `RunMonitor.apply` takes what changed in the run (a `RunChanges` from
`nbstudio.tracking.changes`) and pushes it into typed, synced traits and sub-widgets, each update
held into one message per widget. It does no I/O of its own: `LiveMonitor` (live.py) polls the
store in a background thread and drives it, so the same widget can be driven by a test, a
benchmark or a sweep monitor built on it.

All metrics share ONE plotly ``FigureWidget`` (a grid of subplots): a FigureWidget is an anywidget
that carries plotly.js (5 MB) in its state and evaluates it once per model in the browser, so a
figure per metric would cost that many times over.

Extending it (e.g. a sweep monitor): subclass, call ``super().apply(changes)`` and override
`children_html` to draw ``self.child_runs`` (run id -> `ChildRun`) differently.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
from traitlets import Bool, Dict, Float, Int, TraitError, Unicode, observe, validate

from nbstudio.jupyter.widgets import static
from nbstudio.jupyter.widgets.series import MetricSeries, step_tick
from nbstudio.tracking.changes import ChildRun, LoggedModelRef, RunChanges
from nbstudio.tracking.result import STATUS_COLOURS, format_duration, format_value

KNOWN_STATUSES = frozenset(STATUS_COLOURS)
EMPTY_ESM = "export default { render() {} };"
BASE_LAYOUT = {
    "margin": {"l": 50, "r": 20, "t": 30, "b": 40},
    "showlegend": False,
    "template": "plotly_white",
    "hovermode": "x",
}
SUBPLOT_HEIGHT = 230
#: MLflow's system metrics (``mlflow.enable_system_metrics_logging``): shown as one line.
SYSTEM_PREFIX = "system/"
#: Charts the live figure holds (two per row); later metrics are listed, not charted, while live.
MAX_CHARTS = 12
LINE = {"color": static.CHART_COLOUR, "width": 1.5}


def _live_duration(seconds: float) -> str:
    """Whole seconds while running: the header then changes (and is sent) once a second."""
    return f"{int(seconds)} s" if seconds < 60 else format_duration(seconds)


def _axis_name(index: int, axis: str) -> str:
    return axis if index == 0 else f"{axis}{index + 1}"


def _axis_key(index: int, axis: str) -> str:
    """The layout key of chart ``index``'s axis: ``xaxis``, ``xaxis2``, ..."""
    return f"{axis}axis{index + 1 if index else ''}"


def _initial_layout() -> dict[str, Any]:
    """BASE_LAYOUT with every chart's axes declared up front (hidden until a metric uses them).

    plotly.js refuses a relayout that creates an axis and sets its attributes at once ("cannot
    set xaxis2.domain and a parent attribute simultaneously"), and then drops the whole update:
    titles, domains and tick positions. With every axis present from the start, a new metric
    only ever sets attributes of axes that exist, in the kernel and in the browser alike.
    """
    layout: dict[str, Any] = dict(BASE_LAYOUT)
    for index in range(MAX_CHARTS):
        layout[_axis_key(index, "x")] = {"visible": False, "anchor": _axis_name(index, "y")}
        layout[_axis_key(index, "y")] = {"visible": False, "anchor": _axis_name(index, "x")}
    return layout


def plotly_imported() -> bool:
    """plotly's widget is imported in this process: making a chart costs milliseconds."""
    return "plotly.basewidget" in sys.modules


class RunMonitor(widgets.VBox):
    """Live view of one MLflow run; `apply` a `RunChanges` to update it."""

    run_id = Unicode(help="The MLflow run shown.").tag(sync=True)
    run_name = Unicode(help="The run's name.").tag(sync=True)
    status = Unicode(
        "RUNNING", help="The run's MLflow status: RUNNING, SCHEDULED, FINISHED, FAILED or KILLED."
    ).tag(sync=True)
    elapsed = Float(
        0.0, help="Seconds since the run started (whole seconds while running; exact once ended)."
    ).tag(sync=True)
    params = Dict(help="The run's params (name -> value as logged).").tag(sync=True)
    point_counts = Dict(
        help="Points received per metric (before downsampling for the charts)."
    ).tag(sync=True)
    child_count = Int(0, help="How many child runs (nested runs, sweep trials) the run has.").tag(
        sync=True
    )
    ended = Bool(False, help="True once the run is FINISHED, FAILED or KILLED.").tag(sync=True)
    max_points = Int(
        2000, help="Most points drawn per chart trace; longer histories are min/max downsampled."
    )
    live_charts = Bool(
        True,
        help="Draw the live plotly charts. Off for a run already ended: its final state is static.",
    )

    @observe("live_charts")
    def _charts_switched_on(self, change: Any) -> None:
        if change["new"] and self.series:
            self._draw(list(self.series))

    @validate("status")
    def _check_status(self, proposal: Any) -> str:
        if proposal["value"] not in KNOWN_STATUSES:
            raise TraitError(f"unknown run status {proposal['value']!r}")
        return proposal["value"]

    @validate("max_points")
    def _check_max_points(self, proposal: Any) -> int:
        if proposal["value"] < 10:
            raise TraitError(f"max_points must be at least 10, got {proposal['value']}")
        return proposal["value"]

    def __init__(self, run_id: str, max_points: int = 2000, **kwargs: Any) -> None:
        self._header = widgets.HTML()
        self._params_html = widgets.HTML()
        self._last_html = widgets.HTML()
        self._chart_box = widgets.Box(layout=widgets.Layout(width="100%", display="none"))
        self._children_html = widgets.HTML()
        self._footer = widgets.HTML()
        super().__init__(
            children=[
                self._header,
                self._params_html,
                self._last_html,
                self._chart_box,
                self._children_html,
                self._footer,
            ],
            run_id=run_id,
            max_points=max_points,
            **kwargs,
        )
        self.add_class("nbstudio-monitor")
        self.series: dict[str, MetricSeries] = {}
        self.system: dict[str, MetricSeries] = {}  # MLflow's system/* metrics: a line, no charts
        self.child_runs: dict[str, ChildRun] = {}
        self.models: list[LoggedModelRef] = []
        self.evaluation_png: bytes | None = None
        self.error: str | None = None
        self.note = ""
        self.start_ms: int | None = None
        self.end_ms: int | None = None
        self.figure: Any = None  # plotly FigureWidget, made by prepare() or at the first metric
        self._figure_lock = threading.Lock()
        self._header_text = ""
        self._x_axes: dict[str, tuple[str, int | None]] = {}  # metric -> (title, step tick)
        self._render_header()

    # -- updates (pushed in by LiveMonitor, or by anyone holding a RunChanges) -----------------
    def apply(self, changes: RunChanges) -> None:
        """Show what changed: status, params, new metric points, child runs."""
        self.start_ms, self.end_ms = changes.start_time, changes.end_time
        grown = []
        for key, points in changes.metrics.items():
            kept = self.system if key.startswith(SYSTEM_PREFIX) else self.series
            series = kept.get(key)
            if series is None:
                series = kept[key] = MetricSeries(key, self.max_points)
            series.extend(points)
            if kept is self.series:
                grown.append(key)
        for child in changes.children:
            self.child_runs[child.run_id] = child
        if changes.metrics:
            self._last_html.value = self._last_values_html()
        if grown and self.live_charts:  # charts first: point_counts then matches what they hold
            self._draw(grown)
        with self.hold_sync():
            self.run_name = changes.run_name
            self.status = changes.status
            self.ended = changes.ended
            self.elapsed = changes.elapsed() if changes.ended else float(int(changes.elapsed()))
            if changes.params:
                self.params = {**self.params, **changes.params}
            if grown:
                self.point_counts = {k: len(s) for k, s in self.series.items()}
            if changes.children:
                self.child_count = len(self.child_runs)
        self._render_header()
        if changes.params:
            self._params_html.value = static.params(self.params)
        if changes.children or (self.child_runs and not changes.ended):
            self._children_html.value = self.children_html()

    def _last_values_html(self) -> str:
        return static.last_values(list(self.series.values())) + static.system_usage(
            {key: s.last[2] for key, s in self.system.items() if s.last is not None}
        )

    def tick(self, now_ms: int | None = None) -> None:
        """Advance the elapsed time of a running run (sends only when the shown second changes)."""
        if self.ended or self.start_ms is None:
            return
        now_ms = now_ms or int(time.time() * 1000)
        seconds = float(int(max(0, now_ms - self.start_ms) / 1000))
        if seconds != self.elapsed:
            self.elapsed = seconds
            self._render_header()

    def set_note(self, text: str) -> None:
        """A one-line note in the header (e.g. the store cannot be read right now)."""
        self.note = text
        self._render_header()

    def set_evaluation(self, png: bytes | None) -> None:
        """The run's evaluation plots (one image) for the final state."""
        self.evaluation_png = png

    def set_outcome(self, models: Sequence[LoggedModelRef], error: str | None = None) -> None:
        """The end of the run: the models it logged and its one-line error, if any."""
        self.models = list(models)
        self.error = error
        footer = static.models(self.models, self.run_name) + static.error(error, self.status)
        self._footer.value = footer

    def prepare(self, may_import: bool = True) -> None:
        """Make the (hidden) chart now rather than at the first metric.

        In the kernel, the first FigureWidget of a process imports plotly's renderers (nbformat,
        jsonschema: seconds); in the browser every FigureWidget model evaluates plotly.js (5 MB)
        once. Doing both before the run's code starts overlaps them with it, so the chart is
        ready when the first points come. Once the run has ended, nothing is made.

        ``may_import=False`` (a cell that arrives while the background warm-up has not reached
        plotly yet, or any call off the kernel's main thread) makes the chart only if plotly is
        already imported: the header, status and last values show at once, and the cell never
        waits seconds for a chart. Importing plotly from another thread is never done: it can
        meet the user's own imports in an import deadlock.
        """
        if self.live_charts and not self.ended and (may_import or plotly_imported()):
            self._ensure_figure()

    def _ensure_figure(self) -> Any:
        with self._figure_lock:  # prepare() may run in the cell's thread and the poller's
            return self._make_figure()

    def _make_figure(self) -> Any:
        if self.figure is None:
            import plotly.graph_objects as go

            self.figure = go.FigureWidget(layout=_initial_layout())
            self.figure.add_class("nbstudio-charts")
            self._chart_box.children = (self.figure,)
        return self.figure

    # -- rendering ----------------------------------------------------------------------------
    def children_html(self, now_ms: int | None = None) -> str:
        """The child-runs table; override to draw children differently (e.g. sweep trials)."""
        return static.children_table(list(self.child_runs.values()), now_ms)

    def _duration_text(self) -> str:
        return format_duration(self.elapsed) if self.ended else _live_duration(self.elapsed)

    def _render_header(self) -> None:
        shown = self._duration_text()
        text = static.header(self.run_name, self.status, shown, self.run_id, self.note)
        if text != self._header_text:
            self._header_text = text
            self._header.value = text

    def _draw(self, keys: list[str]) -> None:
        if self.figure is None and not plotly_imported():
            return  # no chart this time (see `prepare`): the line of last values shows the points
        keys_in_order = list(self.series)[:MAX_CHARTS]
        new = self.figure is None or len(self.figure.data) < len(keys_in_order)
        self._ensure_figure()
        self._chart_box.layout.display = None  # shown from the first metric on
        for index in range(len(self.figure.data), len(keys_in_order)):
            self.figure.add_scatter(
                name=keys_in_order[index],
                mode="lines+markers",
                line=LINE,
                marker={"size": 4},
                xaxis=_axis_name(index, "x"),
                yaxis=_axis_name(index, "y"),
            )
        with self.figure.batch_update():
            for index, key in enumerate(keys_in_order):
                series = self.series[key]
                trace = self.figure.data[index]
                if key in keys or new:
                    x, y = series.xy(self.start_ms)
                    trace.x, trace.y = x, y
                    trace.mode = "lines+markers" if len(x) < 50 else "lines"
            self._layout(keys_in_order, relayout_grid=new)

    def _layout(self, keys: list[str], relayout_grid: bool) -> None:
        """Subplot grid (two per row) titled by metric; changed only when a metric appears or its
        x axis switches to steps (point counts and last values are in the HTML line above, which
        costs far less to update than plotly's layout), or its step ticks need wider spacing."""
        count = len(keys)
        columns = 1 if count == 1 else 2
        rows = math.ceil(count / columns)
        height = SUBPLOT_HEIGHT * rows + 40
        gap_x = 0.1 if columns > 1 else 0.0
        gap_y = min(0.3, 70 / height)
        updates: dict[str, Any] = {}
        annotations = []
        for index, key in enumerate(keys):
            row, column = divmod(index, columns)
            x0 = column / columns + (gap_x / 2 if column else 0)
            x1 = (column + 1) / columns - (gap_x / 2 if column < columns - 1 else 0)
            y1 = 1 - row / rows - (gap_y / 2 if row else 0)
            y0 = 1 - (row + 1) / rows + (gap_y / 2 if row < rows - 1 else 0)
            series = self.series[key]
            x_axis = (series.x_title, step_tick(series.max_step) if series.by_step else None)
            if relayout_grid or self._x_axes.get(key) != x_axis:
                updates[_axis_key(index, "x")] = {
                    "visible": True,
                    "domain": [x0, x1],
                    "title": {"text": series.x_title, "font": {"size": 11}},
                    # whole steps get whole-number ticks; time gets plotly's own
                    "tickmode": "linear" if x_axis[1] else "auto",
                    "tick0": 0,
                    "dtick": x_axis[1],
                }
                updates[_axis_key(index, "y")] = {"visible": True, "domain": [y0, y1]}
                self._x_axes[key] = x_axis
            annotations.append(
                {
                    "text": f"<b>{key}</b>",
                    "x": (x0 + x1) / 2,
                    "y": y1,
                    "xref": "paper",
                    "yref": "paper",
                    "xanchor": "center",
                    "yanchor": "bottom",
                    "showarrow": False,
                    "font": {"size": 12},
                }
            )
        if relayout_grid:
            updates["annotations"] = annotations
            updates["height"] = height
        if updates:
            self.figure.update_layout(updates)

    # -- notebook output ----------------------------------------------------------------------
    def summary_text(self) -> str:
        """The final state as plain text (what a terminal or a text-only viewer shows)."""
        lines = [
            f"Run {self.run_name} ({self.run_id}): {self.status} in {format_duration(self.elapsed)}"
        ]
        last = {k: s.last[2] for k, s in self.series.items() if s.last is not None}
        if last:
            lines.append(
                "  metrics: " + ", ".join(f"{k}={format_value(v)}" for k, v in sorted(last.items()))
            )
        if self.params:
            lines.append(
                "  params: " + ", ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
            )
        if self.child_runs:
            lines.append(f"  child runs: {len(self.child_runs)}")
        for ref in self.models:
            if ref.registered:
                lines.append(
                    f"  model {ref.name}: {ref.uri}, registered as {', '.join(ref.registered)}"
                )
            else:
                lines.append(
                    f"  model {ref.name}: register it with "
                    f"%register_model {ref.uri} --name {static.register_name(ref, self.run_name)}"
                )
        if self.error:
            lines.append(f"  error: {self.error}")
        return "\n".join(lines)

    def final_bundle(self) -> dict[str, str]:
        """The final state as static output: HTML with the charts as an image, and text."""
        png = static.charts_png(list(self.series.values()), self.start_ms)
        html = static.box(
            [
                static.header(
                    self.run_name, self.status, format_duration(self.elapsed), self.run_id
                ),
                static.params(self.params),
                self._last_values_html(),
                static.image(png, f"metrics of run {self.run_name}"),
                static.image(self.evaluation_png, f"evaluation of run {self.run_name}"),
                self.children_html(),
                static.models(self.models, self.run_name),
                static.error(self.error, self.status),
            ],
            "nbstudio-monitor nbstudio-monitor-final",
        )
        return {"text/html": html, "text/plain": self.summary_text()}

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """The widget, plus a text/html snapshot for viewers without widgets (GitHub, nbconvert)."""
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        note = f"live monitor; %mlmonitor {self.run_id} shows it again"
        bundle["text/html"] = static.box(
            [
                static.header(self.run_name, self.status, self._duration_text(), self.run_id, note),
                static.params(self.params),
                static.last_values(list(self.series.values())),
            ],
            "nbstudio-monitor nbstudio-monitor-snapshot",
        )
        bundle["text/plain"] = self.summary_text()
        return bundle

    def dispose(self) -> None:
        """Close this widget and its parts in the kernel (after its output became static)."""
        parts = [self._header, self._params_html, self._last_html, self._children_html]
        parts += [self._footer, self._chart_box]
        if self.figure is not None:
            # A FigureWidget's state carries plotly.js (5 MB); nbclient and papermill keep the
            # last state of every widget, closed or not, in the executed notebook. Its view is
            # gone by now (the output is static), so swap the module for an empty one first.
            self.figure._esm = EMPTY_ESM
            parts.append(self.figure)
        for part in parts:
            part.close()
        self.close()
