"""A third kind of workspace resource, for the tests of `nbstudio.resources`: a process that
records itself running and sleeps until SIGTERM (``python -m helpers.resource_kind FOLDER NAME``).
It restarts on workspace open when its spec says ``running`` (policy IF_WANTED), as schedules
will."""

from __future__ import annotations

import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from nbstudio.resources import supervisor
from nbstudio.resources.kind import IF_WANTED, Kind
from nbstudio.resources.record import ProcessStatus, Record
from nbstudio.resources.records import ResourceRecords


@dataclass
class TickerSpec(Record):
    name: str
    running: bool = True
    generation: int = 1


@dataclass
class TickerStatus(ProcessStatus):
    pass


KIND = Kind("ticker", TickerSpec, TickerStatus, "helpers.resource_kind", restart=IF_WANTED)


class Records(ResourceRecords[TickerSpec, TickerStatus]):
    kind = KIND


def start(name: str) -> None:
    """Launch the ticker ``name`` of the workspace in the current folder (what a kind's commands
    module's ``start`` does)."""
    folder = Path.cwd() / ".nbstudio" / "ticker"
    recs = Records(folder)
    recs.write_status(name, TickerStatus(state="starting"))
    here = str(Path(__file__).resolve().parents[1])  # tests/, where `helpers` is a package
    supervisor.launch(KIND, folder, name, recs.log_path(name), cwd=folder, env={"PYTHONPATH": here})


def main(folder: Path, name: str) -> None:
    recs = Records(folder)
    me = psutil.Process()
    recs.write_status(name, TickerStatus("running", me.pid, me.create_time()))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        time.sleep(0.1)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
