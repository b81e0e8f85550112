"""Managed Dask clusters end to end: create, autoscale under load, idle scale-down, stop, crash,
attach, and the ``nbstudio compute`` command. Real clusters, real processes, no mocks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cloudpickle
import httpx
import psutil
import pytest

from helpers.compute import alive, family, stop_everything, wait_until
from nbstudio.compute import targets
from nbstudio.compute.errors import ComputeError, UnknownTargetError
from nbstudio.compute.executor import executor_for

# Functions of this module travel to workers by value (workers cannot import tests/).
cloudpickle.register_pickle_by_value(sys.modules[__name__])

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def ws(workspace: Path):
    """A fresh workspace whose clusters are all stopped, leaving no process, after the test."""
    yield workspace
    # rule: nothing a test started outlives it
    assert stop_everything() == []


def busy(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def hold(release: str, limit: float = 120.0) -> str:
    """Keep a node busy until the test releases it, however slowly the second node starts."""
    deadline = time.monotonic() + limit
    while not Path(release).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return "released"


def test_cluster_lifecycle_autoscale_and_stop(ws: Path) -> None:
    lines: list[str] = []
    cluster = targets.create("cpu", min_nodes=0, max_nodes=2, idle_seconds=2, progress=lines.append)
    # rule: create waits until the cluster runs, with progress lines on the way
    assert cluster.state == "running"
    assert lines[-1].startswith("Cluster 'cpu' is running")
    # rule: scheduler and dashboard bind to 127.0.0.1 on random ports
    assert cluster.address.startswith("tcp://127.0.0.1:")
    assert cluster.dashboard_link.startswith("http://127.0.0.1:")
    assert httpx.get(cluster.dashboard_link, timeout=10).status_code < 500
    # rule: the cluster process has its own session, so a kernel restart does not kill it
    assert os.getsid(cluster.pid) == cluster.pid != os.getsid(0)
    # rule: it starts at min_nodes (0) and is recorded in the workspace
    assert cluster.nodes == 0
    assert (ws / ".nbstudio" / "compute" / "cpu" / "target.json").is_file()

    executor = executor_for("cpu")
    release = ws / "release-tasks"
    handles = [executor.submit(hold, str(release)) for _ in range(2)]
    seen = {"nodes": 0, "busy": 0}

    def two_busy_nodes() -> bool:
        now = targets.get("cpu")
        seen["nodes"] = max(seen["nodes"], now.nodes)
        seen["busy"] = max(seen["busy"], now.busy_nodes)
        return now.busy_nodes == 2

    wait_until(two_busy_nodes, 120, "two busy nodes")
    # rule: under load it scales 0 -> max_nodes, one task per node
    assert targets.get("cpu").tasks == 2
    released = time.monotonic()  # the nodes cannot be idle before this
    release.touch()
    assert [h.result() for h in handles] == ["released", "released"]
    # rule: idle nodes go away after idle_seconds, down to min_nodes
    wait_until(lambda: targets.get("cpu").nodes == 0, 30, "scale-down to 0")
    assert time.monotonic() - released >= 2  # idle_seconds
    assert seen["nodes"] <= 2

    warm = targets.scale("cpu", nodes=1)
    # rule: scale N brings N nodes now
    assert warm.nodes == 1
    procs = family(warm.pid)
    assert len(alive(procs)) >= 2  # the cluster process and its worker
    stopped = targets.stop("cpu")
    # rule: stop ends the cluster process and every worker: no orphan pid
    assert stopped.state == "stopped"
    assert alive(procs) == []
    assert stopped.actions == ["start", "delete"]

    again = targets.start("cpu")
    # rule: a stopped cluster starts again with its recorded size, on new ports
    assert again.state == "running"
    assert (again.min_nodes, again.max_nodes) == (0, 2)
    procs = family(again.pid)
    targets.delete("cpu")
    # rule: delete stops it and forgets it
    assert alive(procs) == []
    with pytest.raises(UnknownTargetError, match="No compute target named 'cpu'"):
        targets.get("cpu")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_nodes": 3, "max_nodes": 2}, "is above --max-nodes"),
        ({"max_nodes": 0}, "--max-nodes must be at least 1"),
        ({"min_nodes": -1}, "--min-nodes must be 0 or more"),
        ({"memory_per_node": "lots"}, "is not a size"),
        ({"idle_seconds": 0}, "--idle-seconds must be a number of seconds above 0"),
        ({"threads_per_node": 0}, "--threads-per-node must be at least 1"),
    ],
    ids=["min-above-max", "no-nodes", "negative", "memory", "idle", "threads"],
)
def test_bad_sizes_are_refused_before_anything_starts(ws: Path, kwargs, message) -> None:
    # rule: bad input is one clear line, and nothing is recorded or started
    with pytest.raises(ComputeError, match=message):
        targets.create("bad", **kwargs)
    assert [t.name for t in targets.list_targets()] == ["local"]


def test_local_and_unknown_targets(ws: Path) -> None:
    local = targets.get("local")
    # rule: local is always there, running, with this machine's cores and memory
    assert (local.kind, local.state, local.cores) == ("local", "running", os.cpu_count())
    assert local.actions == []
    # rule: local cannot be created, stopped or deleted
    with pytest.raises(ComputeError, match="'local' is the kernel"):
        targets.create("local")
    with pytest.raises(ComputeError, match="'local' is the kernel"):
        targets.stop("local")
    with pytest.raises(ComputeError, match="'local' is the kernel"):
        targets.delete("local")
    # rule: an unknown target says how to see and make targets
    with pytest.raises(UnknownTargetError, match="%compute list"):
        targets.start("nope")


def test_crashed_cluster_is_failed_and_stop_cleans_up(ws: Path) -> None:
    cluster = targets.scale(targets.create("gpu", max_nodes=1).name, nodes=1)
    procs = family(cluster.pid)
    os.kill(cluster.pid, signal.SIGKILL)
    wait_until(lambda: targets.get("gpu").state == "failed", 10, "failed state")
    failed = targets.get("gpu")
    # rule: a cluster whose process died is failed, with the reason
    assert "exited unexpectedly" in failed.reason
    assert failed.actions == ["start", "delete"]
    # rule: running a cell there says so and how to recover
    with pytest.raises(ComputeError, match=r"is failed .* `%compute start gpu`"):
        targets.require_running("gpu")
    # rule: stop kills the orphaned workers too
    assert targets.stop("gpu").state == "stopped"
    assert alive(procs) == []


def test_attach_to_a_scheduler_started_here(ws: Path) -> None:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0", scheduler_port=0,
    ) as external:  # fmt: skip
        attached = targets.attach("ext", external.scheduler_address.removeprefix("tcp://"))
        # rule: an attached scheduler shows its live nodes and cores
        assert (attached.kind, attached.state) == ("attached", "running")
        assert (attached.nodes, attached.cores) == (1, 1)
        assert attached.address == external.scheduler_address
        assert attached.actions == ["delete"]
        # rule: nbstudio does not start/stop/scale what it does not manage
        with pytest.raises(ComputeError, match="does not manage"):
            targets.stop("ext")
        # rule: work runs there like on a managed cluster
        assert executor_for("ext").submit(busy, 0.1).result(timeout=60) == 0.1
        stop_everything()  # closes this kernel's client before the scheduler goes
    gone = targets.get("ext")
    # rule: an unreachable scheduler is failed with the reason
    assert gone.state == "failed"
    assert "Cannot reach" in gone.reason
    targets.delete("ext")
    with pytest.raises(ComputeError, match="Cannot reach the Dask scheduler"):
        targets.attach("bad", "127.0.0.1:9")


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nbstudio.cli", "compute", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_console_command(ws: Path) -> None:
    created = _cli("create", "cli", "--max-nodes", "1", "--idle-seconds", "30", cwd=ws)
    # rule: `nbstudio compute create` prints the target; progress goes to stderr
    assert created.returncode == 0, created.stderr
    assert "Compute cli (cluster): running" in created.stdout
    assert "Cluster 'cli' is running" in created.stderr
    # rule: the cluster outlives the command that created it
    assert targets.get("cli").state == "running"
    listed = json.loads(_cli("list", "--json", cwd=ws).stdout)
    assert [t["name"] for t in listed] == ["local", "cli"]
    scaled = json.loads(_cli("scale", "cli", "--max-nodes", "3", "--json", cwd=ws).stdout)
    # rule: new autoscale bounds are recorded
    assert scaled["max_nodes"] == 3
    assert targets.get("cli").max_nodes == 3
    pid = targets.get("cli").pid
    procs = family(pid)
    assert "stopped" in _cli("stop", "cli", cwd=ws).stdout
    assert alive(procs) == []
    deleted = _cli("delete", "cli", cwd=ws)
    assert deleted.stdout.strip() == "Deleted compute target 'cli'."
    missing = _cli("show", "cli", cwd=ws)
    # rule: a user error is one line on stderr and exit code 1
    assert missing.returncode == 1
    assert missing.stderr.count("\n") == 1
    assert "No compute target named 'cli'" in missing.stderr
    assert psutil.pid_exists(pid) is False or not alive([psutil.Process(pid)])
