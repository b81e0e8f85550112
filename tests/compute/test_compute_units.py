"""Pure helpers of compute targets: which variables travel, names, timings, tables, errors."""

from __future__ import annotations

import ast
import io
import threading
import time

import pytest

from nbstudio.compute import shipping
from nbstudio.compute._cluster_process import adaptive_timing
from nbstudio.compute.display import ProgressLine, format_bytes, targets_text
from nbstudio.compute.errors import ComputeError
from nbstudio.compute.records import ClusterStatus, Records, TargetSpec, check_name
from nbstudio.compute.targets import Target


@pytest.mark.parametrize(
    ("source", "reads", "assigns"),
    [
        ("y = f(x)", {"f", "x"}, {"y"}),
        ("x = x + 1", {"x"}, {"x"}),
        ("for i in items:\n    total += i", {"items", "total", "i"}, {"i", "total"}),
        ("def g(a):\n    return a * k\nb = g(2)", {"a", "k", "g"}, {"g", "b"}),
        ("import numpy as np\nfrom os import path", set(), {"np", "path"}),
        ("import os.path", set(), {"os"}),
        ("[z for z in data]", {"z", "data"}, set()),
        ("if (n := len(data)) > 2:\n    pass", {"len", "data"}, {"n"}),
        ("class M:\n    w = 1", set(), {"M"}),
        ("with open(p) as fh:\n    text = fh.read()", {"open", "p", "fh"}, {"fh", "text"}),
        ("try:\n    pass\nexcept ValueError as err:\n    e2 = err", {"ValueError", "err"},
         {"err", "e2"}),
        ("f = lambda q: q + r", {"q", "r"}, {"f"}),
        ("del old", {"old"}, set()),
    ],
    ids=["call", "augment", "loop", "function", "imports", "dotted-import", "comprehension",
         "walrus", "class", "with", "except", "lambda", "del"],
)  # fmt: skip
def test_read_and_assigned_names(source: str, reads: set[str], assigns: set[str]) -> None:
    tree = ast.parse(source)
    # rule: every loaded name counts as read (even inside functions); only top-level binds return
    assert shipping.read_names(tree) == reads
    assert shipping.assigned_names(tree) == assigns


def test_names_to_ship_keeps_namespace_names_only() -> None:
    tree = ast.parse("print(a, b, In, _i3, _7, __name__, _private)")
    namespace = {"a": 1, "In": [], "_i3": "", "_7": 1, "__name__": "m", "_private": 2}
    # rule: builtins and IPython's history variables stay behind; user variables travel
    assert shipping.names_to_ship(tree, namespace) == ["_private", "a"]


def test_pack_names_the_unpicklable_variable() -> None:
    namespace = {"ok": [1, 2], "lock": threading.Lock()}
    # rule: an unpicklable variable is a one-line error naming it
    with pytest.raises(ComputeError, match=r"Variable 'lock' \(lock\) cannot be shipped"):
        shipping.pack(namespace, ["ok", "lock"], "compute 'cpu'")
    # rule: a variable the cell assigns anyway is skipped instead
    packed, skipped = shipping.pack(namespace, ["ok", "lock"], "c", optional={"lock"})
    assert shipping.unpack(packed) == {"ok": [1, 2]}
    assert skipped == ["lock"]


def test_syntax_error_is_one_line() -> None:
    # rule: a cell that is not Python fails before anything is sent
    with pytest.raises(ComputeError, match="not valid Python"):
        shipping.parse("x = (")


@pytest.mark.parametrize("name", ["", "1abc", "a b", "x/y", "a" * 41], ids=str)
def test_bad_names_are_refused(name: str) -> None:
    # rule: names become file names and URL parts, so only safe ones are accepted
    with pytest.raises(ComputeError, match="not a valid compute name"):
        check_name(name)


@pytest.mark.parametrize(
    ("idle", "interval", "wait_count"),
    [(120, 1.0, 121), (2, 1.0, 3), (1, 0.5, 3), (0.3, 0.15, 3)],
    ids=["default", "two-seconds", "one-second", "sub-second"],
)
def test_adaptive_timing(idle: float, interval: float, wait_count: int) -> None:
    # rule: Dask releases a node after (wait_count - 1) to wait_count intervals of idleness:
    # at least --idle-seconds, at most one interval more
    assert adaptive_timing(idle) == (interval, wait_count)


def test_records_round_trip(tmp_path) -> None:
    records = Records(tmp_path / "compute")
    records.write_spec(TargetSpec(name="cpu", kind="cluster", max_nodes=3))
    records.write_status("cpu", ClusterStatus(state="running", nodes=2))
    # rule: spec and status are separate files, read back as written; status files are no targets
    assert records.names() == ["cpu"]
    assert records.read_spec("cpu").max_nodes == 3
    assert records.read_status("cpu").nodes == 2
    records.delete("cpu")
    assert records.names() == []


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "-"), (512, "512 B"), (4_000_000_000, "4.0 GB"), (25_300_000_000, "25.3 GB")],
    ids=["none", "bytes", "gb", "big"],
)
def test_format_bytes(n: int, text: str) -> None:
    assert format_bytes(n) == text


def test_table_shows_state_nodes_and_dashboard() -> None:
    target = Target(
        name="cpu", kind="cluster", state="running", nodes=2, busy_nodes=1, idle_nodes=1,
        min_nodes=0, max_nodes=2, cores=2, memory=8_000_000_000, tasks=1, queued=3,
        dashboard_link="http://127.0.0.1:8787/status",
    )  # fmt: skip
    text = targets_text([target])
    # rule: the table has state, nodes (busy/idle, bounds), cores, memory, tasks and dashboard
    assert "2 (1 busy, 1 idle) of 0-2" in text
    assert "8.0 GB" in text
    assert "1 (+3 queued)" in text
    assert "http://127.0.0.1:8787/status" in text
    # rule: the panel's buttons follow the state
    assert target.to_dict()["actions"] == ["stop", "scale", "delete"]
    failed = Target(name="x", kind="cluster", state="failed", reason="boom")
    assert failed.to_dict()["actions"] == ["start", "delete"]
    assert "failed: boom" in repr(failed)


def test_progress_line_rewrites_in_place_and_keeps_the_last_word() -> None:
    stream = io.StringIO()
    progress = ProgressLine(stream, interval=10)
    progress("Creating... 0.1 s")
    progress("Creating... 0.2 s")  # throttled
    time.sleep(0.01)
    progress("Running.")
    progress.done()
    # rule: one line rewritten with \r, throttled, ending with the latest message and a newline
    assert stream.getvalue() == "\rCreating... 0.1 s\rRunning.         \n"
