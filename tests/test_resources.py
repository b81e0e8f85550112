"""The shared machinery of workspace resources: records changed by two processes at once, the
supervised process's life, the restart policy. Real processes, real files."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

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


def _race(root: Path, first: str, second: str) -> None:
    go = root / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", ACTOR.format(body=textwrap.dedent(b).format(rounds=ROUNDS)),
             str(go)],
            cwd=root,
            stderr=subprocess.PIPE,
            text=True,
        )
        for b in (first, second)
    ]  # fmt: skip
    time.sleep(1.0)  # both imported and waiting
    go.touch()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err


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
