"""A ``%%mlrun`` cell whose ``-p`` values include a distribution: the cell is a sweep's trial body.

Glue only: the cell becomes a trial callable (params set as variables, then the cell runs through
``shell.run_cell`` like any ``%%mlrun`` cell), progress is shown in one updating line, and the
sweep itself is `nbstudio.sweep.launch.sweep`.
"""

from __future__ import annotations

import contextlib
import html
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from IPython.core.error import UsageError
from IPython.display import display

from nbstudio.jupyter.arguments import Expression
from nbstudio.jupyter.cell_runner import _QuietDisplayHook
from nbstudio.tracking import RunTerminated
from nbstudio.tracking.result import format_params, format_value


def cell_trial(shell: Any, cell: str) -> Callable[..., None]:
    """The trial body: set the params as variables and run the cell; raise what it raised."""

    def trial(**params: Any) -> None:
        shell.user_ns.update(params)
        saved_hook, sys.displayhook = sys.displayhook, _QuietDisplayHook(sys.displayhook)
        saved_exc = shell.custom_exceptions, shell.CustomTB
        shell.set_custom_exc((RunTerminated,), _note_stop)
        try:
            outcome = shell.run_cell(cell, store_history=False)
        finally:
            sys.displayhook = saved_hook
            shell.custom_exceptions, shell.CustomTB = saved_exc
        error = outcome.error_before_exec or outcome.error_in_exec
        if error is not None:
            # IPython has shown it; the trial ends FAILED (or KILLED) and the sweep goes on.
            raise error

    return trial


@dataclass
class _ProgressText:
    """The progress line in HTML for notebooks and in text for terminals."""

    text: str
    html: str

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return f'<div class="nbstudio-sweep-progress">{self.html}</div>'


def _note_stop(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None):
    """A trial stopped by a policy or a time limit is not an error, and says nothing: the sweep's
    live view marks it (IPython would otherwise record an error output, which marks a notebook as
    failed, and a line per stopped trial repeated itself down the cell)."""
    return None


class ProgressLine:
    """One line, updated in place: trials by state and the best so far."""

    def __init__(self) -> None:
        self._handle: Any = None

    def __call__(self, progress: Any) -> None:
        counts = progress.counts
        total = progress.settings.max_total_trials
        done = counts["finished"] + counts["killed"] + counts["failed"]
        states = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        head = f"Sweep {progress.run_name}: {done}/{total} trials ({states})"
        text, rich = head, html.escape(head)
        if progress.best is not None:
            params = format_params(progress.best["params"])
            value = format_value(progress.best["value"])
            best = f"; best {progress.settings.metric} = {value}"
            where = f" (trial {progress.best['number']}: {params})"
            text += best + where
            rich += f"{html.escape(best)[: -len(html.escape(value))]}<b>{html.escape(value)}</b>"
            rich += html.escape(where)
        if progress.ended:
            end = f" - ended: {progress.end_reason or ''}"
            text, rich = text + end, rich + html.escape(end)
        view = _ProgressText(text, rich)
        if self._handle is None:
            self._handle = display(view, display_id=True)
        else:
            with contextlib.suppress(Exception):
                self._handle.update(view)


class MonitorView:
    """Shows a live `SweepMonitor` of the sweep once it has started; its final state at the end.

    A monitor that cannot be shown never stops the sweep: the progress line takes its place.
    """

    def __init__(self) -> None:
        self.live: Any = None
        self._fallback: ProgressLine | None = None

    def __call__(self, progress: Any) -> None:
        if self._fallback is not None:
            self._fallback(progress)
            return
        try:
            if self.live is None:
                self.live = _follow(progress)
            if progress.ended:
                self.live.finish()
        except Exception as exc:
            warnings.warn(f"nbstudio: the sweep monitor is off ({exc})", stacklevel=2)
            self._fallback = ProgressLine()
            self._fallback(progress)


def _follow(progress: Any) -> Any:
    from nbstudio.jupyter.widgets.live import LiveMonitor
    from nbstudio.jupyter.widgets.sweep_monitor import SweepMonitor
    from nbstudio.sweep.results import describe_settings

    settings = progress.settings
    widget = SweepMonitor(
        progress.parent_run_id,
        settings.metric,
        settings.goal,
        settings.max_total_trials,
        list(settings.space),
        settings_text=describe_settings(settings),
    )
    live = LiveMonitor(progress.parent_run_id, widget=widget, freeze_on_end=False)
    live.poll()
    display(live)  # starts polling, with the chart made first (`LiveMonitor.start`)
    return live


def run_sweep_cell(shell: Any, cell: str, args: Any, params: dict[str, Any], tags: dict) -> None:
    """Run ``cell`` as the trial body of the sweep the magic's options describe; bind the result."""
    from nbstudio.sweep.errors import SpaceError
    from nbstudio.sweep.space import FACTORIES, is_distribution_text, parse_distribution

    for key, value in params.items():
        if isinstance(value, Expression) and not is_distribution_text(value.text):
            if value.text.split("(", 1)[0].strip().lower() in FACTORIES:
                try:  # a distribution with a bad argument: say which
                    parse_distribution(value.text)
                except SpaceError as exc:
                    raise UsageError(f"-p {key}: {exc}") from None
            raise UsageError(
                f"-p {key}={value.text}: {value.text!r} is neither a Python literal nor a "
                f"distribution ({', '.join(FACTORIES)})"
            )
    if not args.sweep and not args.resume:
        key, value = next((k, v) for k, v in params.items() if isinstance(v, Expression))
        raise UsageError(
            f"-p {key}={value.text} is a distribution: add --sweep maximize:METRIC (or "
            "minimize:METRIC) to run the cell as a sweep"
        )
    for option in ("nested", "autolog", "no_wait"):
        if getattr(args, option, False):
            raise UsageError(f"--{option.replace('_', '-')} cannot be combined with --sweep")
    space = {
        key: parse_distribution(value.text) if isinstance(value, Expression) else value
        for key, value in params.items()
    }
    if not args.resume and not any(isinstance(v, Expression) for v in params.values()):
        raise UsageError(
            '--sweep needs at least one -p with a distribution, e.g. -p C="loguniform(1e-3, 1e2)"'
        )
    objective, executor = cell_trial(shell, cell), None
    if args.compute and args.compute != "local":
        from nbstudio.compute.executor import executor_for
        from nbstudio.sweep.remote import CellTrial

        source = shell.transform_cell(cell)
        where = f"compute target {args.compute!r}"
        objective = CellTrial.from_namespace(source, shell.user_ns, params, where)
        executor = executor_for(args.compute)
    try:
        result = _sweep(shell, cell, args, space, tags, objective, executor)
    finally:
        if executor is not None:
            executor.close()
    # The live view has become the final summary: the cell shows nothing more (the result is bound).
    shell.user_ns[args.out or "_sweep"] = result
    return None


def _sweep(
    shell: Any,
    cell: str,
    args: Any,
    space: dict[str, Any],
    tags: dict,
    objective: Callable[..., Any],
    executor: Any,
) -> Any:
    from nbstudio.sweep.launch import sweep

    return sweep(
        objective,
        space if args.sweep else None,
        goal=args.sweep,
        sampling=args.sampling,
        policy=args.policy,
        max_total_trials=args.max_trials,
        max_concurrent_trials=args.max_concurrent,
        timeout=args.timeout,
        trial_timeout=args.trial_timeout,
        seed=args.seed,
        name=args.name,
        experiment=args.experiment,
        resume=args.resume,
        tags=tags,
        source=cell,
        executor=executor,
        observers=[_view(shell, args.no_monitor)],
    )


def _view(shell: Any, no_monitor: bool) -> Any:
    """The live monitor in a kernel that shows widgets, else (or with --no-monitor) the line."""
    if no_monitor or getattr(shell, "kernel", None) is None:
        return ProgressLine()
    return MonitorView()
