"""HTML pieces of a run monitor, shared by the live widget and its static final state.

The static final state is plain HTML with the charts as one PNG image (drawn with matplotlib's
object API, never pyplot, so no notebook backend or global figure state is touched). It renders
the same in JupyterLab after a kernel restart, in nbconvert, nbviewer and on GitHub: no script,
no widget model needed.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence

from nbstudio.jupyter.widgets.series import MetricSeries
from nbstudio.tracking.changes import ChildRun, LoggedModelRef
from nbstudio.tracking.result import STATUS_COLOURS, format_duration, format_value

esc = html.escape
#: Rows of the child-runs table drawn (a sweep of more trials shows the newest ones).
MAX_CHILD_ROWS = 200
CHART_COLOUR = "#0078d4"


def badge(status: str) -> str:
    colour = STATUS_COLOURS.get(status, "#605e5c")
    return (
        f'<span class="nbstudio-status" data-status="{esc(status)}" style="background:{colour};'
        'color:white;border-radius:3px;padding:1px 6px;font-size:0.85em;font-weight:600">'
        f"{esc(status)}</span>"
    )


def header(name: str, status: str, duration: str, run_id: str, note: str = "") -> str:
    """Name, status badge, duration (already formatted), run id and an optional note.

    ``data-run-id`` lets the side panel find a monitor left frozen by a kernel restart and redraw
    its status from the store."""
    note_html = f' <span style="color:#605e5c">{esc(note)}</span>' if note else ""
    return (
        f'<div class="nbstudio-monitor-header" data-run-id="{esc(run_id)}" '
        'style="display:flex;gap:0.6em;align-items:center">'
        f'<b style="font-size:1.05em">{esc(name or run_id[:8])}</b> {badge(status)} '
        f'<span class="nbstudio-elapsed" title="elapsed">{esc(duration)}</span> '
        f'<code style="font-size:0.8em;color:#605e5c">{esc(run_id)}</code>{note_html}</div>'
    )


def params(values: dict[str, str]) -> str:
    if not values:
        return ""
    items = ", ".join(f"<b>{esc(k)}</b>={esc(v)}" for k, v in sorted(values.items()))
    return f'<div class="nbstudio-params" style="font-size:0.9em">params: {items}</div>'


def last_values(series: Sequence[MetricSeries]) -> str:
    cells = []
    for s in series:
        last = s.last
        if last is not None:
            cells.append(
                f"<b>{esc(s.key)}</b>={esc(format_value(last[2]))} "
                f'<span style="color:#605e5c">({len(s):,} points)</span>'
            )
    if not cells:
        return ""
    return f'<div class="nbstudio-last" style="font-size:0.9em">{" · ".join(cells)}</div>'


#: How MLflow's system metrics read in the monitor's line (others keep their own names).
SYSTEM_LABELS = {
    "system/cpu_utilization_percentage": ("CPU", "{:.0f} %"),
    "system/system_memory_usage_megabytes": ("memory", "{:,.0f} MB"),
    "system/system_memory_usage_percentage": ("memory", "{:.0f} %"),
    "system/gpu_utilization_percentage": ("GPU", "{:.0f} %"),
    "system/gpu_memory_usage_megabytes": ("GPU memory", "{:,.0f} MB"),
}


def system_usage(latest: dict[str, float]) -> str:
    """The run's latest system metrics as one line: CPU 35 % · memory 2,104 MB · memory 13 %."""
    if not latest:
        return ""
    cells = []
    for key, value in sorted(
        latest.items(),
        key=lambda item: (
            list(SYSTEM_LABELS).index(item[0]) if item[0] in SYSTEM_LABELS else len(SYSTEM_LABELS)
        ),
    ):
        label, shape = SYSTEM_LABELS.get(key, (key.removeprefix("system/"), "{:.4g}"))
        cells.append(f"{esc(label)} {esc(shape.format(value))}")
    return (
        '<div class="nbstudio-system" style="font-size:0.85em;color:#605e5c">'
        f"system: {' · '.join(cells)}</div>"
    )


def _metrics_text(metrics: dict[str, float]) -> str:
    return ", ".join(f"{k}={format_value(v)}" for k, v in sorted(metrics.items()))


def children_table(children: Sequence[ChildRun], now_ms: int | None = None) -> str:
    """Child runs, newest first: name, status, duration, params, latest metrics."""
    if not children:
        return ""
    ordered = sorted(children, key=lambda c: c.start_time or 0, reverse=True)
    rows = []
    for child in ordered[:MAX_CHILD_ROWS]:
        params_text = ", ".join(f"{k}={v}" for k, v in sorted(child.params.items()))
        rows.append(
            f'<tr data-run-id="{esc(child.run_id)}" style="text-align:left">'
            f"<td>{esc(child.name)}{_reused_mark(child)}</td>"
            f"<td>{badge(child.status)}</td>"
            f"<td>{esc(format_duration(child.duration(now_ms)))}</td>"
            f"<td>{esc(params_text)}</td><td>{esc(_metrics_text(child.metrics))}</td></tr>"
        )
    more = len(ordered) - MAX_CHILD_ROWS
    tail = f'<div style="color:#605e5c">and {more} more</div>' if more > 0 else ""
    counts: dict[str, int] = {}
    for child in children:
        counts[child.status] = counts.get(child.status, 0) + 1
    summary = ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items()))
    reused = sum(1 for child in children if child.reused_from)
    if reused:
        summary += f", {reused} reused"
    return (
        f'<div class="nbstudio-children"><div style="font-weight:600">child runs: '
        f"{len(children)} ({esc(summary)})</div>"
        '<div style="max-height:320px;overflow:auto">'
        '<table class="nbstudio-children-table" style="font-size:0.85em;text-align:left">'
        "<tr><th>name</th><th>status</th><th>duration</th><th>params</th><th>metrics</th></tr>"
        f"{''.join(rows)}</table></div>{tail}</div>"
    )


def _reused_mark(child: ChildRun) -> str:
    """The recycle mark of a reused pipeline step (as on the panel's graph), naming its origin."""
    if not child.reused_from:
        return ""
    return (
        f' <span class="nbstudio-reused" data-reused-from="{esc(child.reused_from)}" '
        f'title="reused: no execution, outputs of run {esc(child.reused_from)}" '
        'style="color:#107c10;font-size:0.85em">♻ reused</span>'
    )


def register_name(ref: LoggedModelRef, run_name: str) -> str:
    """The registered-model name to suggest: the model's own, or the run's for a plain "model"."""
    name = ref.name if ref.name and ref.name != "model" else run_name
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name) or "model"


def models(refs: Sequence[LoggedModelRef], run_name: str = "") -> str:
    """Each logged model, with the command that registers it (or the versions made from it)."""
    parts = []
    for ref in refs:
        if ref.registered:
            done = ", ".join(ref.registered)
            parts.append(
                f"<div>model <b>{esc(ref.name)}</b> <code>{esc(ref.uri)}</code> registered as "
                f"<b>{esc(done)}</b></div>"
            )
        else:
            command = f"%register_model {ref.uri} --name {register_name(ref, run_name)}"
            parts.append(
                f"<div>model <b>{esc(ref.name)}</b> logged: register it with "
                f'<code class="nbstudio-register-hint" style="user-select:all">'
                f"{esc(command)}</code></div>"
            )
    if not parts:
        return ""
    return f'<div class="nbstudio-models">{"".join(parts)}</div>'


def error(text: str | None, status: str) -> str:
    if not text:
        return ""
    colour = STATUS_COLOURS.get(status, "#d13438")
    return f'<div class="nbstudio-error" style="color:{colour}">{esc(text)}</div>'


def charts_png(series: Sequence[MetricSeries], start_ms: int | None) -> bytes | None:
    """All metric charts as one PNG (two per row), or None without any point."""
    drawn = [s for s in series if len(s)]
    if not drawn:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    columns = 1 if len(drawn) == 1 else 2
    rows = math.ceil(len(drawn) / columns)
    figure = Figure(figsize=(4.6 * columns, 2.5 * rows), dpi=80, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax, s in zip(axes, drawn, strict=False):
        x, y = s.xy(start_ms)
        ax.plot(x, y, color=CHART_COLOUR, linewidth=1.2, marker="o" if len(x) < 30 else None)
        ax.set_title(f"{s.key} ({len(s):,} points)", fontsize=10)
        ax.set_xlabel(s.x_title, fontsize=8)
        if s.by_step:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    for ax in axes[len(drawn) :]:
        ax.set_visible(False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def image(png: bytes | None, alt: str) -> str:
    if png is None:
        return ""
    data = base64.b64encode(png).decode("ascii")
    width = int.from_bytes(png[16:20], "big")  # PNG header: drawn at its size, never stretched
    return (
        f'<img class="nbstudio-charts" alt="{esc(alt)}" width="{width}" '
        f'src="data:image/png;base64,{data}" style="max-width:100%;height:auto">'
    )


def box(parts: Sequence[str], css_class: str) -> str:
    body = "".join(p for p in parts if p)
    return (
        f'<div class="{css_class}" style="border:1px solid #e1dfdd;border-radius:4px;'
        f'padding:6px 10px;display:flex;flex-direction:column;gap:4px">{body}</div>'
    )
