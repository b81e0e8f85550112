"""Launching, watching and stopping a resource's supervised process.

The process runs in its own session (``start_new_session``), so it outlives the kernel or
terminal that launched it and its workers share its process group, which is how `stop` finds
them even once orphaned. A recorded pid counts as alive only with its start time
(`nbstudio.processes.process_alive`: zombie-aware, reused pids refused). Popen objects of
processes launched here are kept, so that stopping one also reaps it (no zombie left).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
from pathlib import Path

import psutil

from nbstudio.processes import group_members, process_alive, stop_process_tree
from nbstudio.resources.kind import Kind

_children: dict[int, subprocess.Popen] = {}
_children_lock = threading.Lock()


def launch(
    kind: Kind,
    folder: Path,
    name: str,
    log: Path,
    cwd: Path,
    env: dict[str, str] | None = None,
    append: bool = False,
) -> subprocess.Popen:
    """Start ``kind``'s process for resource ``name`` detached, its output going to ``log``.

    ``env`` adds to this process's environment (Jupyter's own ``JPY_*`` variables are left out).
    ``append`` keeps the log's earlier output; with ``kind.max_log_bytes`` a larger log is
    rotated to ``.1`` first.
    """
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("JPY_")}
    child_env["PYTHONUNBUFFERED"] = "1"
    child_env.update(env or {})
    log.parent.mkdir(parents=True, exist_ok=True)
    limit = kind.max_log_bytes
    if append and limit is not None and log.is_file() and log.stat().st_size > limit:
        log.replace(log.with_suffix(log.suffix + ".1"))
    with log.open("a" if append else "w") as out:
        proc = subprocess.Popen(
            kind.command(folder, name),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=child_env,
            start_new_session=True,  # outlives the kernel; killed as one process group
        )
    with _children_lock:
        _children[proc.pid] = proc
    return proc


def alive(pid: int | None, started: float | None) -> bool:
    """True if the recorded process still runs (not a zombie, not a reused pid)."""
    if pid is None:
        return False
    with _children_lock:
        child = _children.get(pid)
    if child is not None and child.poll() is not None:
        return False  # our own child has exited (poll() also reaps it)
    return process_alive(pid, started)


def stop(pid: int, started: float | None, timeout: float) -> None:
    """SIGTERM the process so it can close its workers; kill what is left after ``timeout``."""
    with _children_lock:
        popen = _children.pop(pid, None)
    stop_process_tree(pid, started, timeout, popen=popen)


def kill_orphans(pid: int, started: float | None) -> None:
    """Kill what is left in the group of a process that died (its workers live on orphaned)."""
    leftovers = group_members(pid, since=started)
    for proc in leftovers:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(leftovers, timeout=5)
