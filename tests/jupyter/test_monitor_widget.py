"""The run monitor's model (widget traits, FigureWidget data), driven by real runs, no browser."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import mlflow
import pytest
from IPython.core.error import UsageError
from traitlets import TraitError

from nbstudio.jupyter.widgets.live import LiveMonitor, monitor
from nbstudio.jupyter.widgets.run_monitor import RunMonitor
from nbstudio.jupyter.widgets.series import MetricSeries
from nbstudio.session import get_session
from nbstudio.tracking import RunSpec, TrackedRun
from nbstudio.tracking.changes import ChangeCursor, RunChanges


def _wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("count", "max_points"),
    [(50, 2000), (5_000, 200), (100_000, 2000)],
    ids=["short-kept-whole", "5k-to-200", "100k-to-2000"],
)
def test_series_downsamples_incrementally_and_keeps_extremes(count: int, max_points: int) -> None:
    series = MetricSeries("loss", max_points)
    spike_at = count * 2 // 3
    values = [1.0 / (i + 1) for i in range(count)]
    values[spike_at] = 50.0
    for start in range(0, count, 997):  # arrives in polls, as a live run's points do
        series.extend([(i, i, values[i]) for i in range(start, min(count, start + 997))])
        view = series.visible()
        # rule: a view never holds much more than max_points (head + tail budget)
        assert len(view) <= max(max_points * 9 // 8 + 2, min(len(series), max_points))
    x, y = series.xy(0)
    # rule: short histories are drawn whole; long ones keep first, last and the spike
    if count <= max_points:
        assert list(y) == values
    assert x[0] == 0
    assert x[-1] == count - 1
    assert 50.0 in y
    assert series.uses_steps or count == 1


def test_series_without_steps_uses_seconds_since_start() -> None:
    series = MetricSeries("lr")
    series.extend([(0, 1_000, 0.1), (0, 3_500, 0.2)])
    x, _ = series.xy(start_ms=500)
    # rule: a metric logged without steps is drawn against time since the run started
    assert series.x_title == "time (s)"
    assert list(x) == [0.5, 3.0]


def test_status_and_max_points_are_validated() -> None:
    widget = RunMonitor("r1")
    # rule: traits reject impossible values with a clear error
    with pytest.raises(TraitError, match="unknown run status"):
        widget.status = "DONE"
    with pytest.raises(TraitError, match="at least 10"):
        widget.max_points = 3


def test_monitor_model_follows_a_run(workspace: Path) -> None:
    with TrackedRun(RunSpec(name="live", params={"lr": 0.1}, capture_output=False)) as tracked:
        live = LiveMonitor(tracked.run_id, freeze_on_end=False)
        live.poll()
        live.start()
        widget = live.widget
        # rule: the widget shows the run's name, params and RUNNING at once
        assert (widget.run_name, widget.status, widget.params) == ("live", "RUNNING", {"lr": "0.1"})
        for step in range(30):
            mlflow.log_metric("loss", 1 / (step + 1), step=step)
        _wait_for(lambda: widget.point_counts.get("loss") == 30)
        # rule: new points reach the widget's model and its chart while the run is going
        assert list(widget.figure.data[0].y) == [1 / (s + 1) for s in range(30)]
        for step in range(30, 60):
            mlflow.log_metric("loss", 1 / (step + 1), step=step)
        with mlflow.start_run(run_name="child", nested=True):
            mlflow.log_metric("acc", 0.9)
        _wait_for(lambda: widget.point_counts.get("loss") == 60 and widget.child_count == 1)
        # rule: the chart grows with the run, and child runs appear in the table
        assert list(widget.figure.data[0].x) == list(range(60))
        assert "child" in widget._children_html.value
        assert "acc=0.9" in widget._children_html.value
        # rule: elapsed time ticks while the run runs
        _wait_for(lambda: widget.elapsed >= 1.0, timeout=5)
        assert live.polling
    bundle = live.finish(tracked.result.error if tracked.result else None)
    # rule: the final state is FINISHED, polling has stopped, and the output is static
    assert widget.status == "FINISHED"
    assert widget.ended
    assert not live.polling
    assert "application/vnd.jupyter.widget-view+json" not in bundle
    assert 'data-status="FINISHED"' in bundle["text/html"]
    assert "data:image/png;base64," in bundle["text/html"]
    assert "loss=0.0166667" in bundle["text/plain"]


def test_a_100k_point_metric_is_drawn_downsampled() -> None:
    widget = RunMonitor("r-big")
    now = int(time.time() * 1000)
    for start in range(0, 100_000, 25_000):  # four polls' worth of points
        points = [
            (s, now + s, 1000.0 if s == 77_777 else 1 / (s + 1))
            for s in range(start, start + 25_000)
        ]
        widget.apply(
            RunChanges(
                run_id="r-big",
                run_name="big",
                experiment_id="0",
                status="RUNNING",
                start_time=now,
                end_time=None,
                params={},
                metrics={"loss": points},
                children=[],
                cursor=ChangeCursor(),
            )
        )
    trace = widget.figure.data[0]
    # rule: all 100,000 points are counted, about 2,000 drawn, and the spike is kept
    assert widget.point_counts == {"loss": 100_000}
    assert 1_900 <= len(trace.y) <= 2_250
    assert max(trace.y) == 1000.0
    assert trace.x[-1] == 99_999


def test_monitor_of_a_run_written_by_another_process_stops_when_it_ends(workspace: Path) -> None:
    session = get_session()
    session.workspace  # noqa: B018
    writer = textwrap.dedent(
        """
        import time, mlflow
        from nbstudio.tracking import RunSpec, TrackedRun
        with TrackedRun(RunSpec(name="script", capture_output=False)) as run:
            print(run.run_id, flush=True)
            for step in range(12):
                mlflow.log_metric("loss", 1 / (step + 1), step=step)
                time.sleep(0.25)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", writer], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        run_id = proc.stdout.readline().strip()
        assert run_id, proc.stderr.read()
        live = monitor(run_id)
        live.start()
        # rule: a monitor opened on another process's running run follows it live
        assert live.polling
        # rule: polling stops by itself once the run has ended, leaving the final state
        assert live.wait(timeout=60)
        assert live.widget.status == "FINISHED"
        assert live.widget.point_counts == {"loss": 12}
        assert live.final is not None
        assert 'data-status="FINISHED"' in live.final["text/html"]
    finally:
        proc.wait(30)


def test_mlmonitor_magic(ip) -> None:
    # rule: no run yet, or an unknown id, is a one-line usage error
    with pytest.raises(UsageError, match="Which run"):
        ip.run_line_magic("mlmonitor", "")
    with pytest.raises(UsageError, match="No run with id 'nope'"):
        ip.run_line_magic("mlmonitor", "nope")
    ip.run_cell("%%mlrun done\nimport mlflow\nmlflow.log_metric('m', 2.0)\n")
    shown = ip.run_line_magic("mlmonitor", "")
    # rule: without an id it shows this kernel's last run; an ended run is shown final, static
    assert isinstance(shown, LiveMonitor)
    assert shown.widget.run_name == "done"
    assert shown.final is not None
    assert shown.widget.figure is None  # no live chart made for a run that has ended
    assert "m=2" in shown.final["text/plain"]
    assert not shown.polling


def test_series_reorders_batches_that_arrive_out_of_order() -> None:
    series = MetricSeries("loss", max_points=10)
    series.extend([(s, s, float(s)) for s in range(20)])
    assert len(series.visible()) <= 12
    series.extend([(s, s, float(s)) for s in range(40, 60)])
    series.extend([(s, s, -5.0 if s == 21 else float(s)) for s in range(20, 40)])
    # rule: a batch committed late is merged in step order, and a dip inside it is drawn
    assert [p[0] for p in series.points] == list(range(60))
    x, y = series.xy(0)
    assert list(x) == sorted(x)
    assert -5.0 in y


def test_a_lone_point_at_step_0_is_a_step_and_steps_get_whole_ticks() -> None:
    from nbstudio.jupyter.widgets.series import step_tick

    series = MetricSeries("accuracy")
    series.extend([(0, 1_000, 0.9)])
    # rule: one point logged at step 0 is drawn against steps, not time
    assert series.x_title == "step"
    series.extend([(0, 2_000, 0.95)])
    # rule: several points all at step 0 are a metric logged without steps: time
    assert series.x_title == "time (s)"
    # rule: step axes tick at whole numbers, at most ~8 ticks
    assert [step_tick(n) for n in (0, 7, 10, 49, 100, 12_345)] == [1, 1, 2, 10, 20, 2000]


def test_system_metrics_are_recorded_and_shown_as_one_line_not_charts(workspace: Path) -> None:
    (workspace / "nbstudio.toml").write_text("system_metrics = true\n")
    with TrackedRun(RunSpec(name="busy", capture_output=False)) as tracked:
        live = LiveMonitor(tracked.run_id, freeze_on_end=False)
        mlflow.log_metric("loss", 0.5, step=0)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # busy: MLflow samples every 2 s (SYSTEM_...)
            changes = live.poll()
            if any(k.startswith("system/cpu") for k in live.widget.system):
                break
            sum(i * i for i in range(200_000))
        widget = live.widget
        # rule: the workspace default turns MLflow's system metrics on for tracked runs
        assert "system/cpu_utilization_percentage" in widget.system
        # rule: system metrics are one line under the metrics, never charts of their own
        assert list(widget.series) == ["loss"]
        assert "system: CPU" in widget._last_html.value
        assert changes is not None
    bundle = live.finish()
    # rule: the final state keeps the line
    assert "system: CPU" in bundle["text/html"]
