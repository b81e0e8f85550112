"""Cells and trials on a real 2-node Dask cluster: variables shipped and returned, output, errors,
a worker killed mid-cell, --no-wait, cancellation within 1 s, the magics, and the live monitor of a
compute cell in a real kernel.

One cluster serves the whole module (starting one costs seconds); each test leaves it idle.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import uuid
from pathlib import Path

import cloudpickle
import mlflow
import pytest
from IPython.core.error import UsageError

from helpers.compute import running_cluster, wait_until
from nbstudio.compute import targets
from nbstudio.compute.cells import TAG_COMPUTE, run_cell
from nbstudio.compute.errors import ComputeError, WorkerLostError
from nbstudio.compute.executor import executor_for
from nbstudio.session import get_session, reset_session
from nbstudio.tracking import RunSpec
from nbstudio.tracking.run import RunTerminated

cloudpickle.register_pickle_by_value(sys.modules[__name__])

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    """A workspace with a running 2-node cluster 'shared', stopped (no process left) at the end."""
    with running_cluster(tmp_path_factory.mktemp("compute-cells"), "shared") as root:
        yield root


@pytest.fixture
def ns(cluster: Path) -> dict:
    """The module's workspace as the current session, and an empty notebook namespace."""
    os.chdir(cluster)
    reset_session(cluster)
    while mlflow.active_run() is not None:
        mlflow.end_run()
    return {}


def _run(run_id: str):
    return get_session().client().get_run(run_id)


def _text(run_id: str, path: str) -> str:
    return mlflow.artifacts.load_text(f"runs:/{run_id}/{path}")


def _adopted(run_id: str) -> bool:
    """A worker has taken up the run the kernel (this process) created: it is now its owner."""
    return _run(run_id).data.tags.get("nbstudio.pid") != str(os.getpid())


def test_cell_ships_variables_and_brings_results_back(ns: dict, capsys) -> None:
    ns.update(alpha=0.5, data=[1, 2, 3], scale=lambda v: v * 10)
    shown: list = []
    source = (
        "import mlflow\n"
        "print('training with', alpha)\n"
        "for step, x in enumerate(data):\n"
        "    mlflow.log_metric('loss', alpha / (step + 1), step=step)\n"
        "total = scale(sum(data))\n"
        "total + 1\n"
    )
    handle = run_cell("shared", source, ns, RunSpec(name="remote", params={"alpha": 0.5},
                      source=source), show=shown.append)  # fmt: skip
    # rule: assigned variables come back; the shipped function ran there
    assert ns["total"] == 60
    assert ns["x"] == 3
    # rule: printed output appears in the cell; the last value and the summary are shown
    assert "training with 0.5" in capsys.readouterr().out
    assert shown[0] == 61
    assert shown[1].status == "FINISHED"
    run = _run(handle.run_id)
    # rule: the worker logged the run to the same store, like a local run
    assert run.info.experiment_id == get_session().experiment_id("notebook")
    assert run.data.params == {"alpha": "0.5"}
    assert run.data.metrics == {"loss": pytest.approx(0.5 / 3)}
    assert run.data.tags[TAG_COMPUTE] == "shared"
    assert "ipykernel" not in run.data.tags.get("mlflow.source.name", "")
    assert "_cluster_process" not in run.data.tags.get("mlflow.source.name", "")
    assert _text(run.info.run_id, "cell.py") == source
    assert "training with 0.5" in _text(run.info.run_id, "outputs/log.txt")
    # rule: the worker, not the kernel, owns the run
    assert run.data.tags["nbstudio.pid"] != str(os.getpid())
    # rule: the kernel knows it as its last run (for --nested, %register_model)
    assert get_session().last_run_id == run.info.run_id


def test_cell_that_raises(ns: dict) -> None:
    shown: list = []
    with pytest.raises(ZeroDivisionError) as caught:
        run_cell("shared", "before = 1\nratio = before / 0\n", ns, RunSpec(name="boom"),
                 show=shown.append)  # fmt: skip
    rendered = "\n".join(caught.value._render_traceback_())
    # rule: the worker's traceback is shown, pointing at the cell's line, not nbstudio's frames
    assert "line 2, in <module>" in rendered
    assert "ratio = before / 0" in rendered
    assert "nbstudio/compute" not in rendered
    assert "run 'boom' ended FAILED" in rendered
    # rule: the run is FAILED with error.txt; variables set before the error come back
    assert shown[-1].status == "FAILED"
    assert "ZeroDivisionError" in _text(shown[-1].run_id, "error.txt")
    assert ns["before"] == 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (threading.Lock(), r"Variable 'thing' \(lock\) cannot be shipped to compute 'shared'"),
        ((i for i in range(3)), r"Variable 'thing' \(generator\) cannot be shipped"),
    ],
    ids=["lock", "generator"],
)
def test_unpicklable_variable_is_named(ns: dict, value, message: str) -> None:
    ns["thing"] = value
    # rule: a variable that cannot travel is named in one line, before anything runs
    with pytest.raises(ComputeError, match=message):
        run_cell("shared", "print(thing)", ns, RunSpec())


@pytest.mark.parametrize(
    ("target", "message"),
    [("nope", "No compute target named 'nope'"), ("local", "'local' is the kernel")],
    ids=["unknown", "local"],
)
def test_wrong_target(ns: dict, target: str, message: str) -> None:
    # rule: an unknown target (or local) is one clear line
    with pytest.raises(ComputeError, match=message):
        run_cell(target, "x = 1", ns, RunSpec())


def test_worker_killed_mid_cell(ns: dict) -> None:
    handle = run_cell("shared", "import time\nprint('working')\ntime.sleep(60)\n", ns,
                      RunSpec(name="victim"), wait=False)  # fmt: skip
    wait_until(lambda: handle.task.started and _adopted(handle.run_id), 60, "the run")
    os.kill(handle.task.owner["pid"], signal.SIGKILL)
    # rule: the cell fails with one line saying the worker was lost
    with pytest.raises(WorkerLostError, match="worker died"):
        handle.wait()
    run = _run(handle.run_id)
    # rule: its run is FAILED with nbstudio.terminated_by=worker-lost, never left RUNNING
    assert run.info.status == "FAILED"
    assert run.data.tags["nbstudio.terminated_by"] == "worker-lost"
    # rule: the cluster replaces the node and takes the next cell
    run_cell("shared", "after = 'ok'", ns, RunSpec(name="after"))
    assert ns["after"] == "ok"


def test_no_wait_returns_a_handle(ns: dict) -> None:
    ns["n"] = 4
    started = time.monotonic()
    handle = run_cell("shared", "import time\ntime.sleep(1)\nsquare = n * n", ns, RunSpec(),
                      wait=False)  # fmt: skip
    # rule: --no-wait returns at once, before the cell ends, without its variables
    assert time.monotonic() - started < 1
    assert "square" not in ns
    assert "wait()" in repr(handle)
    result = handle.wait()
    # rule: wait() brings the variables back and gives the run's result
    assert ns["square"] == 16
    assert result.status == "FINISHED"
    assert handle.status == "FINISHED"


def test_a_queued_cell_shows_a_waiting_line(ns: dict, capsys) -> None:
    busy = [
        run_cell("shared", "import time\ntime.sleep(3)", ns, RunSpec(), wait=False)
        for _ in range(2)
    ]
    run_cell("shared", "print('finally')", ns, RunSpec())
    captured = capsys.readouterr()
    # rule: while every node is busy, a progress line says the cell waits for a node
    assert "Waiting for a node of 'shared': 2/2 nodes" in captured.err
    assert "finally" in captured.out
    for handle in busy:
        handle.wait()


def test_interrupting_a_cell_kills_its_run(ns: dict) -> None:
    handle = run_cell("shared", "import time\nwhile True:\n    time.sleep(0.05)\n", ns,
                      RunSpec(name="forever"), wait=False)  # fmt: skip
    wait_until(lambda: _adopted(handle.run_id), 60, "the run to start")
    handle.task.cancel("interrupted")
    # rule: an interrupted cell raises KeyboardInterrupt and its run ends KILLED
    with pytest.raises(KeyboardInterrupt):
        handle.wait()
    run = _run(handle.run_id)
    assert run.info.status == "KILLED"
    assert run.data.tags["nbstudio.terminated_by"] == "interrupted"


def test_a_queued_cell_has_its_run_at_once_and_an_interrupt_kills_it(ns: dict) -> None:
    release = Path.cwd() / f"release-{uuid.uuid4().hex[:8]}"
    ns["release"] = str(release)
    hold = "import os, time\nwhile not os.path.exists(release):\n    time.sleep(0.05)\n"
    busy = [run_cell("shared", hold, ns, RunSpec(name="busy"), wait=False) for _ in range(2)]
    try:
        wait_until(lambda: all(h.task.started for h in busy), 60, "both nodes to be busy")
        queued = run_cell("shared", "ran = True", ns, RunSpec(name="queued"), wait=False)
        run = _run(queued.run_id)
        # rule: the run exists as soon as the cell is sent (a monitor can follow it), RUNNING,
        # owned by the kernel until a worker takes it up
        assert (run.info.run_name, run.info.status) == ("queued", "RUNNING")
        assert run.data.tags["nbstudio.pid"] == str(os.getpid())
        assert run.data.tags[TAG_COMPUTE] == "shared"
        queued.task.cancel("interrupted")
        with pytest.raises(KeyboardInterrupt):
            queued.wait()
    finally:
        release.touch()
    run = _run(queued.run_id)
    # rule: a cell interrupted before it started never runs; the kernel ends its run KILLED
    assert run.info.status == "KILLED"
    assert run.data.tags["nbstudio.terminated_by"] == "interrupted"
    assert "ran" not in ns
    for handle in busy:
        # rule: the worker that takes a run up ends it and is recorded as its owner (reaper)
        assert handle.wait().status == "FINISHED"
        assert _adopted(handle.run_id)


def test_a_cell_that_cannot_be_sent_leaves_its_run_failed(ns: dict) -> None:
    spec = RunSpec(name="unsent", params={"guard": threading.Lock()})
    with pytest.raises(ComputeError, match="cannot be sent to compute 'shared'"):
        run_cell("shared", "x = 1", ns, spec)
    client = get_session().client()
    runs = client.search_runs([get_session().experiment_id()], "attributes.run_name = 'unsent'")
    # rule: the run the kernel created for a cell it then could not send ends FAILED with the
    # reason, never RUNNING
    assert [r.info.status for r in runs] == ["FAILED"]
    assert runs[0].data.tags["nbstudio.terminated_by"] == "not-started"
    assert "cannot be sent" in _text(runs[0].info.run_id, "error.txt")


def rendezvous_trial(folder: str, me: str, other: str) -> bool:
    """True if ``other`` runs at the same time as this trial (a file each; 30 s to meet)."""
    Path(folder, me).touch()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if Path(folder, other).exists():
            return True
        time.sleep(0.05)
    return False


def logging_trial(name: str) -> None:
    from nbstudio.tracking import RunSpec, TrackedRun

    with TrackedRun(RunSpec(name=name)):
        for step in range(1000):
            mlflow.log_metric("score", step, step=step)
            time.sleep(0.05)


def test_trials_run_in_parallel_on_the_nodes(ns: dict) -> None:
    executor = executor_for("shared")
    # rule: a cluster offers max_nodes x threads_per_node trial slots
    assert executor.slots == 2
    folder = str(ns_dir := Path.cwd() / "rendezvous")
    ns_dir.mkdir(exist_ok=True)
    first = executor.submit(rendezvous_trial, folder, "a", "b")
    second = executor.submit(rendezvous_trial, folder, "b", "a")
    # rule: two trials on a two-node cluster run at the same time (each sees the other)
    assert first.result(timeout=90) is True
    assert second.result(timeout=90) is True


@pytest.mark.parametrize("target", ["shared", "local"], ids=["cluster", "local"])
def test_cancel_stops_a_trial_within_a_second(ns: dict, target: str) -> None:
    handle = executor_for(target).submit(logging_trial, f"cancel-{target}")
    client = get_session().client()

    def scoring() -> bool:
        runs = client.search_runs([get_session().experiment_id()],
                                  f"attributes.run_name = 'cancel-{target}'")  # fmt: skip
        return bool(runs) and "score" in runs[0].data.metrics

    wait_until(scoring, 60, "the trial to log")
    decided = time.time()
    assert handle.cancel("early-termination")
    with pytest.raises(RunTerminated, match="early-termination"):
        handle.result(timeout=30)
    run = client.search_runs([get_session().experiment_id()],
                             f"attributes.run_name = 'cancel-{target}'")[0]  # fmt: skip
    last = max(m.timestamp for m in client.get_metric_history(run.info.run_id, "score")) / 1000
    # rule: the trial stops within 1 s of the decision; its run ends KILLED with the reason
    assert last - decided < 1.0
    assert run.info.status == "KILLED"
    assert run.data.tags["nbstudio.terminated_by"] == "early-termination"


def test_magics(cluster: Path, ip, capsys) -> None:
    reset_session(cluster)
    shared = targets.get("shared").address
    reset_session()
    ip.run_line_magic("compute", f"attach remote {shared}")
    table = ip.run_line_magic("compute", "list")
    # rule: %compute list shows local and the attached target with its nodes
    assert [t.name for t in table] == ["local", "remote"]
    assert table[1].nodes == 2
    assert "remote" in table._repr_html_()
    ip.user_ns["base"] = 10
    result = ip.run_cell(
        "%%mlrun magic-run --compute remote -p lr=0.1\n"
        "import mlflow\n"
        "mlflow.log_metric('m', base * lr)\n"
        "value = base * lr\n"
        "print('remote says', value)\n"
    )
    # rule: %%mlrun --compute runs the cell remotely and brings its variables back
    assert result.success
    assert ip.user_ns["value"] == 1.0
    out = capsys.readouterr().out
    assert "remote says 1.0" in out
    assert "Run magic-run" in out
    handle = ip.run_cell("%%mlrun --compute remote --no-wait\nlater = base + 1\n").result
    handle.wait()
    # rule: --no-wait gives a handle whose wait() brings the variables back
    assert ip.user_ns["later"] == 11
    magic_cell = ip.run_cell("%%mlrun --compute remote\n%time x = 1\n")
    # rule: IPython syntax cannot run on a worker: one line says so
    assert isinstance(magic_cell.error_in_exec, UsageError)
    assert "magics or !commands" in str(magic_cell.error_in_exec)
    for line, message in [
        ("scale remote 1", "does not manage"),
        ("create bad --max-nodes 0", "--max-nodes must be at least 1"),
        ("show", "needs a NAME"),
        ("scale remote x", "must be a whole number"),
    ]:
        # rule: user mistakes are one-line UsageErrors
        with pytest.raises(UsageError, match=message):
            ip.run_line_magic("compute", line)
    no_wait = ip.run_cell("%%mlrun --no-wait\nx = 1\n")
    assert "--no-wait needs --compute" in str(no_wait.error_in_exec)
    ip.run_line_magic("compute", "delete remote")
    # rule: deleting an attached target only forgets it (the cluster still runs)
    assert [t.name for t in ip.run_line_magic("compute", "list")] == ["local"]
    reset_session(cluster)
    assert targets.get("shared").state == "running"


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class _KernelCell:
    """One cell executed in a real kernel, its iopub messages read as they arrive."""

    def __init__(self, kc, code: str) -> None:
        self.messages: list[dict] = []
        self.widgets: dict[str, dict] = {}  # comm id -> the widget model's state
        self._kc = kc
        self._msg_id = kc.execute(code)

    def read(self, until, timeout: float = 90) -> dict:
        """Read messages until ``until(msg)`` holds for one; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            msg = self._kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") != self._msg_id:
                continue
            self.messages.append(msg)
            content = msg["content"]
            if msg["msg_type"] == "comm_open":
                self.widgets[content["comm_id"]] = dict(content["data"].get("state", {}))
            elif msg["msg_type"] == "comm_msg" and content["data"].get("method") == "update":
                self.widgets.setdefault(content["comm_id"], {}).update(content["data"]["state"])
            if until(msg):
                return msg
            idle = msg["msg_type"] == "status" and content["execution_state"] == "idle"
            assert not idle, f"the cell ended first: {self.messages}"

    def finish(self) -> list[dict]:
        self.read(lambda m: m["msg_type"] == "status" and m["content"]["execution_state"] == "idle")
        return self.messages

    def outputs(self, kind: str) -> list[dict]:
        return [m["content"] for m in self.messages if m["msg_type"] == kind]


@pytest.mark.timeout(240)
def test_compute_cell_shows_a_live_monitor_in_a_kernel(cluster: Path) -> None:
    from jupyter_client.manager import start_new_kernel

    release = cluster / f"release-{uuid.uuid4().hex[:8]}"
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(cluster))
    try:
        _KernelCell(kc, "%load_ext nbstudio").finish()
        cell = _KernelCell(
            kc,
            f"%%mlrun watched --compute shared -p release=\"'{release}'\"\n"
            "import mlflow, os, time\n"
            "mlflow.log_metric('loss', 0.5, step=0)\n"
            "while not os.path.exists(release):\n"
            "    time.sleep(0.05)\n"
            "mlflow.log_metric('loss', 0.25, step=1)\n"
            "value = 42\n"
            "print('released')\n",
        )
        shown = cell.read(lambda m: WIDGET_VIEW in m["content"].get("data", {}))
        monitor = cell.widgets[shown["content"]["data"][WIDGET_VIEW]["model_id"]]
        run_id = monitor["run_id"]
        # rule: as soon as the cell is sent the kernel shows a monitor of its run, RUNNING
        assert (monitor["run_name"], monitor["status"]) == ("watched", "RUNNING")
        cell.read(lambda m: monitor.get("point_counts") == {"loss": 1})
        # rule: while the cell runs on the worker (held by the test), what the worker logs
        # reaches the kernel's monitor live
        assert not release.exists()
        assert monitor["status"] == "RUNNING"
        assert monitor["params"] == {"release": str(release)}
        assert _run(run_id).info.status == "RUNNING"
        release.touch()
        cell.finish()
        final = [
            c for c in cell.outputs("update_display_data")
            if c["transient"]["display_id"] == shown["content"]["transient"]["display_id"]
        ][-1]["data"]  # fmt: skip
        # rule: the run's final state (FINISHED, with the metric) replaces the monitor, in place
        # of the text summary; output and variables come as before
        assert WIDGET_VIEW not in final
        assert 'data-status="FINISHED"' in final["text/html"]
        assert "loss=0.25" in final["text/plain"]
        assert "nbstudio-run-summary" not in str(cell.messages)
        assert "released\n" in "".join(c["text"] for c in cell.outputs("stream"))
        assert _run(run_id).info.status == "FINISHED"
        check = _KernelCell(kc, "value")
        check.finish()
        assert check.outputs("execute_result")[0]["data"]["text/plain"] == "42"

        plain = _KernelCell(kc, "%%mlrun plain --compute shared --no-monitor\nx = 1\n")
        plain.finish()
        # rule: --no-monitor shows no widget, the text summary instead
        assert not plain.widgets
        assert not [c for c in plain.outputs("display_data") if WIDGET_VIEW in c["data"]]
        assert "nbstudio-run-summary" in str(plain.outputs("display_data"))
    finally:
        release.touch()
        kc.stop_channels()
        km.shutdown_kernel(now=True)
