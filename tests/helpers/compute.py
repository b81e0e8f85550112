"""Helpers shared by the compute tests: waiting on targets and proving no process is left."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil

from helpers.workspace import module_workspace
from nbstudio.compute import targets
from nbstudio.compute.remote import close_clients


def family(pid: int) -> list[psutil.Process]:
    """A cluster's process, its workers, and anything else in its process group."""
    proc = psutil.Process(pid)
    members = {proc.pid: proc}
    for child in proc.children(recursive=True):
        members[child.pid] = child
    for other in psutil.process_iter():
        try:
            if os.getpgid(other.pid) == pid:
                members[other.pid] = other
        except (ProcessLookupError, psutil.NoSuchProcess, PermissionError):
            continue
    return list(members.values())


def alive(procs: list[psutil.Process]) -> list[int]:
    gone = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                gone.append(p.pid)
        except psutil.NoSuchProcess:
            continue
    return gone


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``check`` until true; returns the seconds it took."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)
    return time.monotonic() - start


def stop_everything() -> list[int]:
    """Stop every cluster of the current workspace; returns pids still alive afterwards."""
    close_clients()
    procs: list[psutil.Process] = []
    for target in targets.list_targets():
        if target.kind == "cluster" and target.pid:
            with contextlib.suppress(psutil.NoSuchProcess):
                procs += family(target.pid)
        if target.kind == "cluster" and target.state != "stopped":
            targets.stop(target.name)
    return alive(procs)


@contextlib.contextmanager
def running_cluster(root: Path, name: str) -> Iterator[Path]:
    """``root`` as a workspace with a running 2-node cluster ``name``; on exit the cluster is
    stopped and no process of it may be left."""
    from nbstudio.session import reset_session

    with module_workspace(root):
        targets.create(name, max_nodes=2, idle_seconds=300)
        targets.scale(name, nodes=2)
        yield root
        reset_session(root)
        leftover = stop_everything()
    # rule: stopping the cluster leaves no process behind
    assert leftover == []
