"""Processes nbstudio records and later finds again: kernels owning runs, clusters, endpoints.

A recorded pid alone proves little: the process may have become a zombie, or the pid may have
been reused by an unrelated process. So every record keeps the process's start time too, and a
process counts as alive only when both still match.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil

# Start times are read back from records with float rounding; a second of slack is plenty.
_START_SLACK = 1.0


def process_started(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), or None if it is gone."""
    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def process_alive(pid: int | None, started: float | None = None) -> bool:
    """True if ``pid`` runs, is not a zombie and (when ``started`` is known) started then."""
    if pid is None:
        return False
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        created = proc.create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    return started is None or abs(created - started) < _START_SLACK


@contextlib.contextmanager
def exclusive_lock(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` across processes (kernels, server, terminals)."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def group_members(pgid: int, since: float | None = None) -> list[psutil.Process]:
    """Live processes of a process group (workers of a leader, even once orphaned).

    ``since``: only processes started after the leader did (a reused pid is not ours).
    """
    members = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) != pgid or proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if since is None or proc.create_time() >= since - _START_SLACK:
                members.append(proc)
        except (ProcessLookupError, psutil.NoSuchProcess, PermissionError):
            continue
    return members


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def stop_process_tree(
    pid: int,
    started: float | None,
    timeout: float,
    popen: subprocess.Popen | None = None,
) -> None:
    """SIGTERM a session leader so it can close its children; kill what is left after ``timeout``.

    What is left: the leader, its descendants and members of its process group started after it
    (children it started while stopping, or workers orphaned by an earlier crash). ``popen``, when
    this process started the leader, is waited on so that no zombie stays behind.
    """
    try:
        proc = psutil.Process(pid)
        family = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        family = []
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if popen is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout)
    else:
        psutil.wait_procs(family[:1], timeout=timeout)
    stragglers = [p for p in family if _running(p)] + group_members(pid, since=started)
    for p in stragglers:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    psutil.wait_procs(stragglers, timeout=5)
    if popen is not None:
        popen.wait()
