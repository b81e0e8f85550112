"""EndpointMonitor: an endpoint's Application-Insights view in a notebook (``%endpoint monitor``).

A header (state, URL, traffic), a table of figures per deployment (requests, failures, request
rate, latency p50/p95/p99, mirrored copies), one plotly ``FigureWidget`` with three stacked charts
over the last minutes (request rate, latency p50 and p95, failures, one colour per deployment) and
the last exceptions with their tracebacks. A background thread re-reads the workspace's
monitoring file every ``interval`` seconds: requests sent from anywhere (this kernel, a script,
curl) show up, and the monitor keeps no figures of its own.

The thread stops after ``duration`` seconds, when the endpoint is deleted, or on `stop`; then
`refresh` still updates on demand.
"""

from __future__ import annotations

import html
import threading
import time
from datetime import datetime
from typing import Any

import ipywidgets as widgets

PALETTE = ["#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]
NAMED = {"blue": "#1f77b4", "green": "#2ca02c", "red": "#d62728"}
STATE_COLOURS = {"running": "#2ca02c", "starting": "#ff7f0e", "failed": "#d62728"}


def colour(name: str, index: int) -> str:
    """Deployments called blue or green are drawn in blue and green."""
    return NAMED.get(name.lower(), PALETTE[index % len(PALETTE)])


def _num(value: Any, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def summary_html(info: dict[str, Any], summary: dict[str, dict[str, Any]]) -> str:
    """The header and the per-deployment table, as HTML (also used for a static snapshot)."""
    state = info["state"]
    badge = STATE_COLOURS.get(state, "#7f7f7f")
    url = f" &middot; <code>{html.escape(info['url'])}</code>" if info.get("url") else ""
    traffic = ", ".join(f"{n} {p}%" for n, p in info["traffic"].items() if p) or "none"
    mirror = ", ".join(f"{n} {p}%" for n, p in info["mirror"].items())
    mirror_text = f" &middot; mirror: {html.escape(mirror)}" if mirror else ""
    head = (
        f"<div><b>Endpoint {html.escape(info['name'])}</b> "
        f"<span style='color:{badge}'>&#9679; {state}</span>{url}<br>"
        f"traffic: {html.escape(traffic)}{mirror_text}</div>"
    )
    rows = []
    for dep in info["deployments"]:
        m = summary.get(dep["name"], {})
        latency = m.get("latency_ms") or {}
        rows.append(
            "<tr>"
            + "".join(
                f"<td>{cell}</td>"
                for cell in (
                    html.escape(dep["name"]),
                    html.escape(f"{dep['model_name']}/{dep['model_version']}"),
                    html.escape(dep["state"]),
                    f"{dep['traffic']}%",
                    f"{m.get('requests', 0):,}",
                    f"{m.get('failures', 0):,}",
                    f"{m.get('client_errors', 0):,}",
                    f"{m.get('mirrored', 0):,}",
                    _num(m.get("rate"), 2),
                    _num(latency.get("p50")),
                    _num(latency.get("p95")),
                    _num(latency.get("p99")),
                )
            )
            + "</tr>"
        )
    columns = [
        "deployment",
        "model",
        "state",
        "traffic",
        "requests",
        "failures",
        "4xx",
        "mirrored",
        "req/s (1 min)",
        "p50 ms",
        "p95 ms",
        "p99 ms",
    ]
    table = (
        "<table class='nbstudio-endpoint-table'><thead><tr>"
        + "".join(f"<th>{c}</th>" for c in columns)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
        if rows
        else "<div>No deployment yet.</div>"
    )
    return head + table


def exceptions_html(exceptions: list[dict[str, Any]], limit: int = 5) -> str:
    if not exceptions:
        return "<div style='color:#7f7f7f'>No exceptions recorded.</div>"
    items = []
    for item in exceptions[:limit]:
        when = time.strftime("%H:%M:%S", time.localtime(item["ts"] / 1000))
        title = f"{when} {item['deployment']} ({item['status']}): {item['message']}"
        trace = item.get("traceback") or "(no traceback)"
        items.append(
            f"<details><summary>{html.escape(title[:300])}</summary>"
            f"<pre style='font-size:11px'>{html.escape(trace)}</pre></details>"
        )
    return f"<div><b>Last exceptions</b>{''.join(items)}</div>"


class EndpointMonitor(widgets.VBox):
    """Live figures of endpoint ``name``; display it (or return it from a cell) to watch."""

    def __init__(
        self,
        name: str,
        window_s: int = 300,
        interval: float = 2.0,
        duration: float = 3600.0,
        start: bool = True,
    ) -> None:
        from nbstudio.endpoints import commands

        commands.records().spec(name)  # an unknown name fails here, as one line
        self.name = name
        self.window_s = window_s
        self.interval = max(0.5, interval)
        self.duration = duration
        self._summary = widgets.HTML()
        self._exceptions = widgets.HTML()
        self._deployments: tuple[str, ...] = ()
        self.figure = self._make_figure()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last: dict[str, Any] = {}
        super().__init__([self._summary, self.figure, self._exceptions])
        self.add_class("nbstudio-endpoint-monitor")
        self.refresh()
        if start:
            self.start()

    @staticmethod
    def _make_figure() -> Any:
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        base = make_subplots(
            rows=3,
            cols=1,
            shared_xaxes=True,
            vertical_spacing=0.08,
            subplot_titles=("Requests per second", "Latency p50 / p95 (ms)", "Failures (5xx)"),
        )
        figure = go.FigureWidget(base)
        figure.update_layout(
            height=520,
            margin={"l": 50, "r": 20, "t": 30, "b": 30},
            template="plotly_white",
            hovermode="x unified",
            legend={"orientation": "h", "y": -0.08},
        )
        return figure

    # -- data ---------------------------------------------------------------------------------
    def refresh(self) -> dict[str, Any]:
        """Re-read the endpoint and its figures and redraw; returns what it read."""
        from nbstudio.endpoints import commands

        info = commands.info(self.name).to_dict()
        figures = commands.metrics(self.name, window_s=self.window_s)
        with self._lock:
            self._summary.value = summary_html(info, figures["summary"])
            self._exceptions.value = exceptions_html(figures["exceptions"])
            self._draw(figures["series"])
            self.last = {"info": info, **figures}
        return self.last

    def _draw(self, series: dict[str, Any]) -> None:
        times = [datetime.fromtimestamp(t / 1000) for t in series["t"]]
        names = tuple(series["deployments"])
        figure = self.figure
        with figure.batch_update():
            if names != self._deployments:
                figure.data = []
                for index, name in enumerate(names):
                    line = {"color": colour(name, index), "width": 1.5}
                    figure.add_scatter(name=f"{name} req/s", line=line, row=1, col=1)
                    figure.add_scatter(
                        name=f"{name} p50", line={**line, "dash": "dot"}, row=2, col=1
                    )
                    figure.add_scatter(name=f"{name} p95", line=line, row=2, col=1)
                    figure.add_bar(
                        name=f"{name} failures", marker_color=colour(name, index), row=3, col=1
                    )
                self._deployments = names
            for index, name in enumerate(names):
                data = series["deployments"][name]
                for offset, key in enumerate(("rate", "p50", "p95", "failures")):
                    trace = figure.data[index * 4 + offset]
                    trace.x, trace.y = times, data[key]

    # -- polling ------------------------------------------------------------------------------
    @property
    def polling(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Refresh every ``interval`` seconds in a background thread (for ``duration`` s)."""
        if self.polling:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._follow, name=f"nbstudio-endpoint-{self.name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop refreshing; the widget keeps what it shows."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _follow(self) -> None:
        from nbstudio.endpoints.errors import UnknownEndpointError

        deadline = time.monotonic() + self.duration
        while not self._stop.wait(self.interval) and time.monotonic() < deadline:
            if self.comm is None:  # the widget was closed
                return
            try:
                self.refresh()
            except UnknownEndpointError:
                self._summary.value += "<div>The endpoint was deleted.</div>"
                return
            except Exception as exc:  # a busy file: try again next time
                self._exceptions.value = f"<div>Cannot read the figures now ({exc}).</div>"

    def __repr__(self) -> str:
        return f"EndpointMonitor({self.name!r}, polling={self.polling})"
