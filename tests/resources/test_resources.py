"""The shared machinery of workspace resources: records changed by two processes at once, the
supervised process's life, the restart policy. Real processes, real files."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from nbstudio.compute.records import Records as ComputeRecords
from nbstudio.compute.records import TargetSpec
from nbstudio.endpoints.records import EndpointSpec
from nbstudio.endpoints.records import Records as EndpointRecords

ROUNDS = 100

# Each actor waits for the "go" file so both start together, then changes its own fields of
# the one record ROUNDS times through the same call the commands use.
ACTOR = """
import os, sys, time
from pathlib import Path
go = Path(sys.argv[1])
while not go.exists():
    time.sleep(0.001)
{body}
"""

COMPUTE_SCALE = """
from nbstudio.compute import targets
for i in range({rounds}):
    targets.record_bounds("cpu", min_nodes=i % 2, max_nodes=2 + i % 3)
"""
COMPUTE_STOP = """
from nbstudio.compute import targets
for i in range({rounds}):
    targets.record_running("cpu", i % 2 == 1)
"""
ENDPOINT_TRAFFIC = """
from nbstudio.endpoints import commands
for i in range({rounds}):
    with commands.records().updating("iris") as spec:
        spec.description = f"round {{i}}"
"""
ENDPOINT_STOP = """
from nbstudio.endpoints import commands
for i in range({rounds}):
    with commands.records().updating("iris") as spec:
        spec.running = i % 2 == 1
"""

# Both actors create the same ROUNDS names; each prints how many creates it won.
CREATE_ALL = """
from nbstudio.compute import targets
from nbstudio.compute.records import TargetSpec
from nbstudio.errors import ConflictError
won = 0
for i in range({rounds}):
    try:
        targets.records().create(TargetSpec(name=f"t{{i}}", kind="cluster"), ConflictError("taken"))
        won += 1
    except ConflictError:
        pass
print(won)
"""


def _race(root: Path, first: str, second: str) -> list[str]:
    go = root / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", ACTOR.format(body=textwrap.dedent(b).format(rounds=ROUNDS)),
             str(go)],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for b in (first, second)
    ]  # fmt: skip
    time.sleep(1.0)  # both imported and waiting
    go.touch()
    printed = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        printed.append(out)
    return printed


def test_two_creates_of_one_name_never_both_succeed(root: Path) -> None:
    won = [int(out) for out in _race(root, CREATE_ALL, CREATE_ALL)]
    # rule: each name was created exactly once, by one of the two processes
    assert sum(won) == ROUNDS
    assert sorted(ComputeRecords(root / ".nbstudio" / "compute").names()) == sorted(
        f"t{i}" for i in range(ROUNDS)
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "nbstudio.toml").write_text("")
    return tmp_path


def test_compute_scale_and_stop_at_once_lose_no_update(root: Path) -> None:
    recs = ComputeRecords(root / ".nbstudio" / "compute")
    recs.write_spec(TargetSpec(name="cpu", kind="cluster", min_nodes=0, max_nodes=2))
    _race(root, COMPUTE_SCALE, COMPUTE_STOP)
    spec = recs.read_spec("cpu")
    assert spec is not None
    # rule: every change of both processes is in the record (none overwrote the other's)
    assert spec.generation == 1 + 2 * ROUNDS
    last = ROUNDS - 1
    assert (spec.min_nodes, spec.max_nodes) == (last % 2, 2 + last % 3)
    assert spec.running is (last % 2 == 1)


def test_endpoint_changes_at_once_lose_no_update(root: Path) -> None:
    recs = EndpointRecords(root / ".nbstudio" / "endpoints")
    recs.write_spec(EndpointSpec(name="iris", running=False))
    _race(root, ENDPOINT_TRAFFIC, ENDPOINT_STOP)
    spec = recs.spec("iris")
    # rule: every change of both processes is in the record (none overwrote the other's)
    assert spec.generation == 1 + 2 * ROUNDS
    assert spec.description == f"round {ROUNDS - 1}"
    assert spec.running is ((ROUNDS - 1) % 2 == 1)
    # rule: the endpoint's spec holds its key: readable by its owner only
    assert recs.spec_path("iris").stat().st_mode & 0o077 == 0


def test_records_of_earlier_versions_move_into_the_record_folder(root: Path) -> None:
    folder = root / ".nbstudio" / "compute"
    folder.mkdir(parents=True)
    (folder / "old.json").write_text('{"name": "old", "kind": "cluster", "max_nodes": 3}')
    (folder / "old.status.json").write_text('{"state": "stopped"}')
    (folder / "old.log").write_text("bye\n")
    recs = ComputeRecords(folder)
    # rule: a flat record of an earlier version is found, in its own folder, with status and log
    assert recs.names() == ["old"]
    assert recs.read_spec("old").max_nodes == 3
    assert recs.read_status("old").state == "stopped"
    assert recs.log_path("old").read_text() == "bye\n"
    assert sorted(p.name for p in folder.iterdir()) == ["old"]


# -- the supervised process and the restart policy ------------------------------------------------


def _dead_pid() -> tuple[int, float]:
    """The pid and start time of a process that has ended (a record whose process died)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    started = psutil.Process(proc.pid).create_time()
    proc.wait()
    return proc.pid, started


def test_launch_liveness_state_and_stop_of_a_supervised_process(root: Path, monkeypatch) -> None:
    from helpers import resource_kind as ticker
    from nbstudio.resources import state, supervisor

    monkeypatch.chdir(root)
    recs = ticker.Records(root / ".nbstudio" / "ticker")
    recs.write_spec(ticker.TickerSpec(name="t1"))
    ticker.start("t1")
    status = _wait(lambda: _running_status(recs, "t1"))
    # rule: the process runs in its own session (it outlives whoever launched it)
    assert os.getsid(status.pid) == status.pid != os.getsid(0)
    assert state.derive(ticker.KIND, status.state, status.pid, status.pid_started).state == (
        "running"
    )
    supervisor.stop(status.pid, status.pid_started, timeout=10)
    # rule: stopped means gone and reaped (no zombie), and the record then derives as failed
    assert not psutil.pid_exists(status.pid)
    derived = state.derive(ticker.KIND, status.state, status.pid, status.pid_started)
    assert derived == ("failed", True)
    # rule: a recorded pid whose start time differs (a reused pid) is not the resource's process
    me = psutil.Process()
    assert not supervisor.alive(me.pid, me.create_time() - 100)


def test_reopen_restarts_only_what_its_kind_and_spec_say(root: Path, monkeypatch) -> None:
    from helpers import resource_kind as ticker
    from nbstudio.compute import targets
    from nbstudio.compute.records import ClusterStatus
    from nbstudio.resources import reopen, supervisor

    monkeypatch.chdir(root)
    monkeypatch.setitem(
        reopen.KINDS, "ticker", ("helpers.resource_kind:KIND", "helpers.resource_kind:start")
    )
    data = root / ".nbstudio"
    recs = ticker.Records(data / "ticker")
    pid, started = _dead_pid()
    for name, running in (("wanted", True), ("unwanted", False)):
        recs.write_spec(ticker.TickerSpec(name=name, running=running))
        recs.write_status(name, ticker.TickerStatus("running", pid, started))
    compute = ComputeRecords(data / "compute")
    compute.write_spec(TargetSpec(name="cpu", kind="cluster"))
    compute.write_status("cpu", ClusterStatus(state="running", pid=pid, pid_started=started))

    restarted = reopen.reopen(data)
    # rule: IF_WANTED restarts a dead resource whose spec says running, and only that one
    assert restarted == ["ticker/wanted"]
    status = _wait(lambda: _running_status(recs, "wanted"))
    supervisor.stop(status.pid, status.pid_started, timeout=10)
    assert recs.read_status("unwanted").pid == pid
    # rule: compute's policy is NEVER: a cluster whose process died stays failed until started
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root}/mlflow.db")
    from nbstudio.session import reset_session

    reset_session(root)
    try:
        assert targets.get("cpu").state == "failed"
    finally:
        reset_session()


def _running_status(recs, name: str):
    status = recs.read_status(name)
    return status if status is not None and status.state == "running" and status.pid else None


def _wait(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("timed out")
