"""LiveMonitor: keeps a RunMonitor up to date from the tracking store until the run ends.

A background thread asks the core for what changed since its cursor (`changes_since`) at most four
times a second and pushes it into the widget, so the cell's own code never waits for the monitor;
each poll becomes one message per changed widget. The store is the only source of truth, so the
run may be written by this kernel, a script, a Dask worker or another notebook alike.

When the run has ended the monitor shows its final state, and its notebook output is replaced by a
static one (HTML, charts as an image): a saved notebook then shows the run in JupyterLab after a
restart, in nbconvert and on GitHub, instead of "Error displaying widget". Jupyter frontends apply
such a replacement only while the cell that displayed it is running: `%%mlrun` does it at the end
of its cell; a monitor opened on a run that ends after its cell has finished stays a widget, whose
output also carries a static snapshot for viewers without widgets.
"""

from __future__ import annotations

import threading
import time

from IPython.display import DisplayHandle, display

from nbstudio.errors import RunError
from nbstudio.jupyter import warmup
from nbstudio.jupyter.widgets.evaluation_images import evaluation_png
from nbstudio.jupyter.widgets.run_monitor import RunMonitor
from nbstudio.session import Session, get_session
from nbstudio.tracking.changes import ChangeCursor, RunChanges, changes_since, logged_models

#: Seconds between polls: at most four updates a second.
POLL_INTERVAL = 0.25
#: Longest wait between polls while the store cannot be read.
MAX_BACKOFF = 5.0


class LiveMonitor:
    """A `RunMonitor` fed from the store by a background thread; display it to start following.

    Example:
        >>> live = LiveMonitor(run_id)  # doctest: +SKIP
        >>> live  # shows the widget and starts polling  # doctest: +SKIP
    """

    def __init__(
        self,
        run_id: str,
        widget: RunMonitor | None = None,
        interval: float = POLL_INTERVAL,
        session: Session | None = None,
        freeze_on_end: bool = True,
    ) -> None:
        self.run_id = run_id
        self.widget = widget or RunMonitor(run_id)
        self.interval = max(interval, POLL_INTERVAL)
        self.freeze_on_end = freeze_on_end
        self.latest: RunChanges | None = None
        self.final: dict[str, str] | None = None
        self._session = session or get_session()
        self._cursor: ChangeCursor | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._handle: DisplayHandle | None = None

    # -- polling ------------------------------------------------------------------------------
    def poll(self) -> RunChanges:
        """Read what changed since the last poll and show it; raises `RunError` for a bad id."""
        with self._lock:
            changes = changes_since(self.run_id, self._cursor, self._session)
            self._cursor = changes.cursor
            self.latest = changes
            self.widget.apply(changes)
            return changes

    @property
    def polling(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Follow the run in a background thread until it ends (or `stop`)."""
        if self.polling or (self.latest is not None and self.latest.ended):
            return
        # The chart now, on the caller's (the kernel's) thread, before the cell's code: the
        # browser loads plotly.js meanwhile; not while the warm-up is still to import plotly.
        self.widget.prepare(may_import=not warmup.pending())
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._follow, name=f"nbstudio-monitor-{self.run_id[:8]}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop polling (the widget keeps what it shows)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until polling has stopped (the run ended); False on timeout."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.polling

    def _follow(self) -> None:
        self.widget.prepare(may_import=False)  # never import plotly off the kernel's thread
        delay = self.interval
        while not self._stop.wait(delay):
            began = time.monotonic()
            try:
                changes = self.poll()
            except RunError as exc:  # the run was deleted: nothing more to follow
                self.widget.set_note(str(exc))
                return
            except Exception as exc:  # a busy or unreachable store: retry later
                self.widget.set_note(f"cannot read the tracking store ({exc}); retrying")
                delay = min(MAX_BACKOFF, delay * 2)
                continue
            if self.widget.note:
                self.widget.set_note("")
            if changes.ended:
                if self.freeze_on_end and not self._stop.is_set():
                    self._freeze()
                return
            with self._lock:
                self.widget.tick()
            delay = max(0.0, self.interval - (time.monotonic() - began))

    # -- the end ------------------------------------------------------------------------------
    def finish(self, error: str | None = None) -> dict[str, str]:
        """Stop polling, read the final state and replace the output with it (in the cell that
        displayed the monitor, e.g. at the end of ``%%mlrun``); the widgets are then closed."""
        self.stop()
        self.poll()
        bundle = self._freeze(error)
        if self._handle is not None:
            self.widget.dispose()
        return bundle

    def _freeze(self, error: str | None = None) -> dict[str, str]:
        try:
            models = logged_models(self.run_id, self._session)
        except RunError:
            models = []
        plots = evaluation_png(self.run_id, self._session)
        with self._lock:
            self.widget.set_evaluation(plots)
            self.widget.set_outcome(models, error)
            self.final = self.widget.final_bundle()
        if self._handle is not None:
            self._handle.update(self.final, raw=True)
        return self.final

    # -- display ------------------------------------------------------------------------------
    def _ipython_display_(self) -> None:
        if self.final is not None:
            display(self.final, raw=True)
            return
        self._handle = display(self.widget, display_id=True)
        self.start()

    def __repr__(self) -> str:
        return f"LiveMonitor({self.run_id!r}, polling={self.polling})"


def monitor(run_id: str | None = None, interval: float = POLL_INTERVAL) -> LiveMonitor:
    """A live monitor of run ``run_id`` (default: this kernel's last run); display it to watch.

    Works for any run in the workspace's store, including one another process is writing. While
    the run lives the monitor polls the store; once it has ended, the monitor shows its final
    state and stops. In a notebook, ``nbstudio.monitor(run_id)`` as a cell's last line shows it.
    """
    session = get_session()
    session.workspace  # noqa: B018 - opens the store
    run_id = (run_id or "").strip() or session.last_run_id
    if not run_id:
        raise RunError("Which run? Give a run id (%mlruns lists the latest runs).")
    live = LiveMonitor(run_id, interval=interval, session=session)
    live.widget.live_charts = False  # no plotly figure for a run that has already ended
    if live.poll().ended:
        live._freeze()
    else:
        live.widget.live_charts = True
    return live


def follow_cell_run(run_id: str) -> LiveMonitor:
    """Display a monitor for a run a cell is about to execute; call ``.finish()`` when it ends."""
    live = LiveMonitor(run_id, freeze_on_end=False)
    live.poll()
    display(live)  # starts polling, with the chart made first (`start`)
    return live
