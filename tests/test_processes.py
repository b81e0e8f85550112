"""processes: telling a recorded process from a zombie or a reused pid, locks, stopping trees."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

from nbstudio.processes import (
    exclusive_lock,
    process_alive,
    process_started,
    stop_process_tree,
)


def test_a_running_process_with_its_start_time_is_alive() -> None:
    started = process_started(os.getpid())
    # rule: same pid and same start time -> alive; unknown start time -> judged by pid alone
    assert process_alive(os.getpid(), started)
    assert process_alive(os.getpid(), None)
    # rule: a different start time means the pid was reused by another process
    assert not process_alive(os.getpid(), started - 3600)
    assert not process_alive(None, started)


def test_an_exited_child_not_yet_reaped_is_not_alive() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while psutil.Process(child.pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "child did not exit"
        time.sleep(0.05)
    # rule: a zombie is dead even though its pid still exists
    assert not process_alive(child.pid)
    child.wait()
    # rule: a gone pid has no start time
    assert process_started(child.pid) is None


def _hold_lock(path: str, held: multiprocessing.Event, release: multiprocessing.Event) -> None:
    with exclusive_lock(Path(path)):
        held.set()
        release.wait(30)


def test_exclusive_lock_excludes_other_processes(tmp_path: Path) -> None:
    lock = tmp_path / "sub" / "x.lock"
    ctx = multiprocessing.get_context("spawn")
    held, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(lock), held, release))
    holder.start()
    try:
        assert held.wait(60)
        import fcntl

        with lock.open("a") as fh:
            # rule: while another process holds the lock, nobody else gets it
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                got_it = True
            except BlockingIOError:
                got_it = False
            assert not got_it
        release.set()
        holder.join(30)
        # rule: released, it can be taken again (and its folder was created on demand)
        with exclusive_lock(lock):
            assert lock.exists()
    finally:
        release.set()
        holder.join(5)


def test_stop_process_tree_ends_a_leader_that_ignores_sigterm_and_its_group(
    tmp_path: Path,
) -> None:
    pid_file = tmp_path / "grandchild.pid"
    script = (
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(120)\n"
    )
    leader = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, "the leader did not start its child"
        time.sleep(0.05)
    grandchild = int(pid_file.read_text())
    started = process_started(leader.pid)
    stop_process_tree(leader.pid, started, timeout=1.0, popen=leader)
    # rule: a leader deaf to SIGTERM is killed after the timeout, with its whole group
    assert leader.returncode is not None
    assert not process_alive(grandchild)
