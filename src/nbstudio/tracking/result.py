"""A finished run as the user sees it after the cell: a compact summary, in HTML and plain text."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

STATUS_COLOURS = {
    "FINISHED": "#107c10",
    "FAILED": "#d13438",
    "KILLED": "#8a8886",
    "RUNNING": "#0078d4",
    "SCHEDULED": "#8a8886",
}


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


PARAM_DIGITS = 4


def format_param(value: Any) -> str:
    """A param as every sweep view shows it: fractional numbers to 4 significant digits.

    MLflow keeps params as strings, so ``"38.69040199125885"`` (as logged) and ``38.69...`` (as
    sampled) both read ``38.69``; integers, booleans and words are shown as they are.
    """
    if isinstance(value, (bool, int)):
        return str(value)
    if isinstance(value, str):
        text = value.strip()
        if not any(c in text for c in ".eE") or text.lower() in ("nan", "inf", "-inf"):
            return value
        try:
            value = float(text)
        except ValueError:
            return value
    if isinstance(value, float):
        return f"{value:.{PARAM_DIGITS}g}"
    return str(value)


def format_params(params: dict[str, Any], order: str = "given") -> str:
    """``k=v, ...`` with `format_param` values; ``order="sorted"`` sorts by name."""
    items = sorted(params.items()) if order == "sorted" else params.items()
    return ", ".join(f"{k}={format_param(v)}" for k, v in items)


@dataclass
class RunResult:
    """The outcome of a tracked run, with a readable repr in notebooks and terminals."""

    run_id: str
    run_name: str
    experiment_id: str
    status: str
    duration: float | None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    error: str | None = None

    @classmethod
    def from_run(cls, run: Any, duration: float | None = None, error: str | None = None):
        info = run.info
        if duration is None and info.end_time and info.start_time:
            duration = (info.end_time - info.start_time) / 1000
        return cls(
            run_id=info.run_id,
            run_name=info.run_name,
            experiment_id=info.experiment_id,
            status=info.status,
            duration=duration,
            params=dict(run.data.params),
            metrics=dict(run.data.metrics),
            error=error,
        )

    def __repr__(self) -> str:
        lines = [
            f"Run {self.run_name} ({self.run_id}): {self.status} "
            f"in {format_duration(self.duration)}"
        ]
        if self.metrics:
            lines.append(
                "  metrics: "
                + ", ".join(f"{k}={format_value(v)}" for k, v in sorted(self.metrics.items()))
            )
        if self.params:
            lines.append(
                "  params: " + ", ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
            )
        if self.error:
            lines.append(f"  error: {self.error}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colour = STATUS_COLOURS.get(self.status, "#605e5c")
        esc = html.escape
        badge = (
            f'<span style="background:{colour};color:white;border-radius:3px;'
            f'padding:1px 6px;font-size:0.85em">{esc(self.status)}</span>'
        )
        rows = "".join(
            f"<tr><td>{esc(k)}</td><td>{esc(format_value(v))}</td></tr>"
            for k, v in sorted(self.metrics.items())
        )
        params = ", ".join(f"{esc(k)}={esc(v)}" for k, v in sorted(self.params.items()))
        parts = [
            '<div class="nbstudio-run-summary">',
            f"<b>{esc(self.run_name)}</b> {badge} "
            f"<span>{esc(format_duration(self.duration))}</span> "
            f'<code style="font-size:0.8em">{esc(self.run_id)}</code>',
        ]
        if rows:
            parts.append(f"<table><tr><th>metric</th><th>last value</th></tr>{rows}</table>")
        if params:
            parts.append(f"<div>params: {params}</div>")
        if self.error:
            parts.append(f'<div style="color:{colour}">{esc(self.error)}</div>')
        parts.append("</div>")
        return "".join(parts)
