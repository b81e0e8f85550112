"""What makes one kind of workspace resource: a small configuration of the shared machinery.

A kind names its folder under ``.nbstudio/``, the files of a record, the classes they are read
into, the module its supervised process runs and the rules that turn a recorded state into the
state every view shows. Everything else (locking, launching, liveness, stopping, the restart
policy) is the same for every kind and lives in the other modules of `nbstudio.resources`.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The restart policies on workspace open (see `nbstudio.resources.reopen`).
NEVER = "never"  # a process that died stays failed until the user starts it (clusters, endpoints)
IF_WANTED = "if-wanted"  # started again when its spec says ``running`` (e.g. schedules)


@dataclass(frozen=True)
class Kind:
    """One kind of long-lived workspace resource.

    ``spec_class``/``status_class`` are dataclasses deriving from `nbstudio.resources.record.Record`
    (``from_dict``/``to_dict``). The spec is what the user asked for, written by commands under
    the record's lock; the status is what the supervised process reports. ``live`` are the
    recorded states that need a live process; ``starting`` is the one written before the process
    exists and ``stopping`` (if any) the one it writes while it winds down.
    """

    name: str
    spec_class: type
    status_class: type
    module: str
    spec_file: str = "spec.json"
    status_file: str = "status.json"
    log_file: str = "process.log"
    private_spec: bool = False
    starting: str = "starting"
    stopping: str | None = None
    live: tuple[str, ...] = ("starting", "running")
    restart: str = NEVER
    max_log_bytes: int | None = None

    def but(self, **changes: Any) -> Kind:
        """This kind with some settings changed (a kind is immutable)."""
        return dataclasses.replace(self, **changes)

    def command(self, folder: Path, name: str) -> list[str]:
        """The supervised process's command line: ``python -m MODULE FOLDER NAME``."""
        return [sys.executable, "-m", self.module, str(folder), name]
