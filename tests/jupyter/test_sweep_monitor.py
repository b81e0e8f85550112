"""The SweepMonitor widget's model, driven by a real sweep on a real store (no browser)."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
from traitlets import TraitError

import nbstudio
from nbstudio.jupyter.widgets.live import LiveMonitor
from nbstudio.jupyter.widgets.sweep_monitor import SweepMonitor


def test_sweep_monitor_follows_a_sweep(workspace: Path) -> None:
    snapshots: list[dict] = []
    state: dict = {}

    def observe(progress) -> None:
        # What LiveMonitor's thread does in a kernel, done here after every change of the sweep.
        if "live" not in state:
            widget = SweepMonitor(progress.parent_run_id, "acc", "maximize", 5, ["x", "k"])
            state["live"] = LiveMonitor(progress.parent_run_id, widget=widget)
            widget.prepare()  # as LiveMonitor.start does on the kernel's thread (imports plotly)
        state["live"].poll()
        snapshots.append(dict(state["live"].widget.counts))

    def train(x, k):
        mlflow.log_metric("acc", x if k == "a" else 0.01)
        state["live"].poll()  # a poll while the trial runs
        snapshots.append(dict(state["live"].widget.counts))

    sweep = nbstudio.sweep(
        train,
        {"x": "uniform(0.1, 1)", "k": "choice('a', 'b')"},
        goal="maximize:acc",
        policy="bandit(slack_factor=0.5)",
        max_total_trials=5,
        seed=3,
        observers=[observe],
    )
    live = state["live"]
    widget = live.widget
    # Rule: while the sweep runs, the monitor shows trials queued and running, then done.
    assert snapshots[0]["queued"] == 5
    assert any(s["running"] == 1 for s in snapshots)
    assert snapshots[-1]["queued"] == 0
    counts = widget.counts
    assert counts["finished"] + counts["killed"] == 5
    assert counts["running"] == 0
    # Rule: the best value and params are those of the sweep's best trial.
    assert widget.best_value == pytest.approx(sweep.best.value)
    assert widget.best_run_id == sweep.best.run_id
    assert float(widget.best_params["x"]) == pytest.approx(sweep.best.params["x"])
    # Rule: the parent's metric is the best so far: its chart is the best-so-far chart.
    assert widget.point_counts["acc"] >= 1
    assert list(widget.figure.data[0].y)[-1] == pytest.approx(sweep.best.value)
    # Rule: a parallel-coordinates chart of params vs the metric has every scored trial.
    dims = widget.parcoords.data[0].dimensions
    assert [d.label for d in dims] == ["x", "k", "acc"]
    assert len(dims[-1]["values"]) == 5
    # Rule: the trials table lists every trial with its state.
    table = widget._children_html.value
    assert table.count("<tr data-state=") == 5
    assert f"{counts['finished']}/5" not in table  # the count lives in the progress bar
    assert f"<b>{counts['finished'] + counts['killed']}/5</b>" in widget._progress_html.value
    # Rule: the final state is static HTML with the progress bar and the best trial.
    bundle = live.finish()
    assert "nbstudio-sweep-progress" in bundle["text/html"]
    assert "best acc" in bundle["text/html"]
    assert bundle["text/plain"].startswith(f"Sweep {sweep.name}")


def test_goal_is_validated() -> None:
    # Rule: a monitor's goal is maximize or minimize.
    with pytest.raises(TraitError, match="maximize or minimize"):
        SweepMonitor("r1", "acc", goal="up")
