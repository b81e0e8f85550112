"""The state every view shows, from the recorded state and whether the process still lives.

A status file says what the process last wrote; the process may have died since without a word
(killed, out of memory, machine rebooted). So a recorded live state counts only while the process
runs: once it is gone, ``stopping`` becomes ``stopped`` (it was on its way) and any other live
state becomes ``failed``. A ``starting`` record without a pid is a launch a moment ago whose
process has not written yet.
"""

from __future__ import annotations

from typing import NamedTuple

from nbstudio.resources import supervisor
from nbstudio.resources.kind import Kind

STOPPED = "stopped"
FAILED = "failed"


class Derived(NamedTuple):
    state: str
    died: bool  # True when the process ended without saying so (the state is now FAILED)


def derive(kind: Kind, recorded: str, pid: int | None, started: float | None) -> Derived:
    """The state to show for a record of ``kind`` whose status says ``recorded``."""
    if recorded not in kind.live:
        return Derived(recorded, False)
    if supervisor.alive(pid, started):
        return Derived(recorded, False)
    if pid is None and recorded == kind.starting:
        return Derived(recorded, False)
    if recorded == kind.stopping:
        return Derived(STOPPED, False)
    return Derived(FAILED, True)
