"""Compute targets as the user sees them: a table in a notebook, aligned text in a terminal.

Plain strings, no IPython: objects expose them through ``__repr__`` and ``_repr_html_``, which
notebooks and the command line pick up on their own.
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nbstudio.compute.targets import Target

STATE_COLOURS = {
    "running": "#107c10",
    "creating": "#0078d4",
    "stopping": "#8a8886",
    "stopped": "#8a8886",
    "failed": "#d13438",
}
COLUMNS = ("name", "kind", "state", "nodes", "cores", "memory", "tasks", "dashboard")


def format_bytes(n: int | None) -> str:
    if not n:
        return "-"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def nodes_text(t: Target) -> str:
    """``2 (1 busy, 1 idle) of 0-2``: now, then the autoscale bounds."""
    text = str(t.nodes)
    if t.kind != "local" and t.state == "running":
        text += f" ({t.busy_nodes} busy, {t.idle_nodes} idle)"
        if t.starting_nodes:
            text += f" +{t.starting_nodes} starting"
    if t.kind == "cluster":
        text += f" of {t.min_nodes}-{t.max_nodes}"
    return text


def state_text(t: Target) -> str:
    return f"{t.state}: {t.reason}" if t.reason else t.state


def tasks_text(t: Target) -> str:
    return f"{t.tasks} (+{t.queued} queued)" if t.queued else str(t.tasks)


def _row(t: Target) -> tuple[str, ...]:
    return (
        t.name,
        t.kind,
        state_text(t),
        nodes_text(t),
        str(t.cores or "-"),
        format_bytes(t.memory),
        tasks_text(t),
        t.dashboard_link or "-",
    )


def targets_text(targets: Sequence[Target]) -> str:
    rows = [COLUMNS, *(_row(t) for t in targets)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


def target_text(t: Target) -> str:
    lines = [f"Compute {t.name} ({t.kind}): {state_text(t)}", f"  nodes: {nodes_text(t)}"]
    if t.cores:
        lines.append(f"  cores: {t.cores}, memory: {format_bytes(t.memory)}")
    if t.kind == "cluster" and t.idle_seconds is not None:
        lines.append(
            f"  per node: {t.threads_per_node} thread(s), {format_bytes(t.memory_per_node)}; "
            f"idle nodes released after {t.idle_seconds:g} s"
        )
    if t.kind != "local":
        lines.append(f"  tasks: {tasks_text(t)}")
    if t.address:
        lines.append(f"  scheduler: {t.address}")
    if t.dashboard_link:
        lines.append(f"  dashboard: {t.dashboard_link}")
    return "\n".join(lines)


def targets_html(targets: Sequence[Target]) -> str:
    esc = html.escape
    head = "".join(f"<th style='text-align:left'>{c}</th>" for c in COLUMNS)
    body = []
    for t in targets:
        cells = list(_row(t))
        colour = STATE_COLOURS.get(t.state, "#605e5c")
        cells = [esc(c) for c in cells]
        cells[2] = f"<span style='color:{colour};font-weight:600'>{cells[2]}</span>"
        if t.dashboard_link:
            link = esc(t.dashboard_link, quote=True)
            cells[7] = (
                f"<a href='{link}' target='_blank' rel='noopener'>{esc(t.dashboard_link)}</a>"
            )
        body.append(
            "<tr>" + "".join(f"<td style='text-align:left'>{c}</td>" for c in cells) + "</tr>"
        )
    return f"<table class='nbstudio-compute'><tr>{head}</tr>{''.join(body)}</table>"


class TargetTable(list):
    """The result of ``%compute list``: a list of `Target` that shows itself as a table."""

    def __repr__(self) -> str:
        return targets_text(self)

    def _repr_html_(self) -> str:
        return targets_html(self)


class ProgressLine:
    """One status line rewritten in place (``\\r``), in a terminal and in a notebook's output.

    Updates are throttled so a long wait does not flood a notebook with output; `done` writes the
    latest message (if a throttled one is pending) and ends the line.
    """

    def __init__(self, stream: Any, interval: float = 0.5) -> None:
        self._stream = stream
        self._interval = interval
        self._last = 0.0
        self._width = 0
        self._pending: str | None = None
        self._shown = False

    def __call__(self, message: str) -> None:
        self._pending = message
        if time.monotonic() - self._last >= self._interval:
            self._write()

    def _write(self) -> None:
        assert self._pending is not None
        self._stream.write("\r" + self._pending.ljust(self._width))
        self._stream.flush()
        self._width = len(self._pending)
        self._pending = None
        self._last = time.monotonic()
        self._shown = True

    def done(self) -> None:
        if self._pending is not None:
            self._write()
        if self._shown:
            self._stream.write("\n")
            self._stream.flush()
            self._shown = False
