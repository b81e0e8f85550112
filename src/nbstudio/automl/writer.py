"""The trial writer: a process of its own that records FLAML's trials while FLAML searches.

Writing a child run costs about 20-60 ms of SQLAlchemy Python per trial. Done by a thread beside
FLAML it held the GIL against the search, and a 30 s job ran only 82-86 % of the trials FLAML
alone runs (`benchmarks/automl.py`). So `TrialWriter.start` launches ``python -c main()`` (a
plain subprocess: a Dask worker, a daemonic process, may start one too) which tails FLAML's log
file with `TrialRecorder` every half second and writes the new trials to the store (on a SQL
store in one transaction, `nbstudio.tracking.bulk`: a few ms a trial). The kernel only
reads back one JSON line per trial (the record with its run id, or an error), so
``writer.records``, ``writer.best`` and ``writer.errors`` are the kernel's view as before.

Stopping is closing the process's stdin: it then records the lines FLAML wrote last and exits,
so every finished trial is kept also after an interrupt. The process sits in a session of its
own and ignores SIGINT, so the Ctrl+C Jupyter sends to the kernel's process group does not kill
it half-way; if the kernel dies, its stdin closes and it ends the same way. While the search runs
it runs at a lower priority than the search.
SQLite takes the two writers: the store is in WAL mode and MLflow waits up to 20 s for a busy
database (`store`).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from nbstudio.automl.metrics import PrimaryMetric
from nbstudio.automl.trials import TrialRecord

POLL_SECONDS = 0.5
#: The writer's priority: below the search's, not the lowest. At 19 a fully busy machine (the
#: whole test suite on 2 cores) starved it, and no trial appeared until the search had ended.
NICENESS = 10
_ENTRY = "from nbstudio.automl.writer import main; main()"


@dataclass
class TrialWriter:
    """Records the trials FLAML logs to ``log_path`` as child runs of ``parent_run_id``, from a
    process of its own; see the module doc."""

    tracking_uri: str
    experiment_id: str
    parent_run_id: str
    log_path: Path
    metric: PrimaryMetric
    records: list[TrialRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    best: TrialRecord | None = None

    def __post_init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._stderr = Path(os.devnull)  # the writer's stderr file, once started

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> TrialWriter:
        """Hand the job to a writer process once it has imported what it needs (see `prepare`)."""
        spec = {
            "tracking_uri": self.tracking_uri,
            "experiment_id": self.experiment_id,
            "parent_run_id": self.parent_run_id,
            "log_path": str(self.log_path),
            "metric": self.metric.name,
            "task": self.metric.task,
        }
        self._process, self._stderr = _take()
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._process.stdout.readline()  # "ready" (or nothing: it died, `close` says why)
        with contextlib.suppress(OSError):
            self._process.stdin.write(json.dumps(spec) + "\n")
            self._process.stdin.flush()
        self._reader = threading.Thread(
            target=self._read, name="nbstudio-automl-writer", daemon=True
        )
        self._reader.start()
        return self

    def _read(self) -> None:
        assert self._process is not None
        for line in self._process.stdout or ():
            report = json.loads(line)
            if "error" in report:
                self.errors.append(report["error"])
                continue
            record = TrialRecord(**report["trial"])
            self.records.append(record)
            if record.beats(self.best, self.metric.higher_is_better):
                self.best = record

    def close(self) -> None:
        """Let the process record every trial FLAML logged (also after an interrupt), then end."""
        if self._process is None or self._reader is None:
            return
        with contextlib.suppress(OSError):  # it has already exited: its exit code says why
            assert self._process.stdin is not None
            self._process.stdin.close()
        code = self._process.wait()
        self._reader.join()
        if self._process.stdout is not None:
            self._process.stdout.close()
        if code != 0:
            lines = self._stderr.read_text(errors="replace").strip().splitlines()
            reason = lines[-1] if lines else f"exit code {code}"
            self.errors.append(f"the trial writer process stopped: {reason}")
        self._stderr.unlink(missing_ok=True)
        prepare()  # the next job's writer imports now, not during its search


_spare: tuple[subprocess.Popen[str], Path] | None = None
_spare_lock = threading.Lock()


def _launch() -> tuple[subprocess.Popen[str], Path]:
    fd, name = tempfile.mkstemp(prefix="nbstudio-automl-writer-", suffix=".log")
    with os.fdopen(fd, "w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", _ENTRY],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            start_new_session=True,
        )
    return process, Path(name)


def prepare() -> None:
    """Start a writer process for the next job now, if none is waiting.

    Its start (Python, MLflow, SQLAlchemy: 1.5-2 s of CPU) during a search slowed FLAML's first
    trials, whose measured costs steer the rest of its search: digits, 30 s, ran 102-127 trials
    with it against 113-157 for FLAML alone, and 121-155 with the writer ready before the search
    (`benchmarks/automl.py`). `run_job` calls this before its parent run exists, so the import
    overlaps that; a writer left waiting after a job is used by the next one, and ends when the
    kernel does (its stdin closes)."""
    global _spare
    with _spare_lock:
        if _spare is None or _spare[0].poll() is not None:
            _spare = _launch()


@atexit.register
def _discard_spare() -> None:
    """At the kernel's exit: let a waiting writer end (its stdin closes) and tidy after it."""
    global _spare
    with _spare_lock:
        spare, _spare = _spare, None
    if spare is None:
        return
    process, stderr = spare
    for stream in (process.stdin, process.stdout):
        with contextlib.suppress(OSError):
            if stream is not None:
                stream.close()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(5)
    stderr.unlink(missing_ok=True)


def _take() -> tuple[subprocess.Popen[str], Path]:
    global _spare
    with _spare_lock:
        spare, _spare = _spare, None
    if spare is not None and spare[0].poll() is None:
        return spare
    return _launch()


def main() -> None:
    """The writer process: the job's spec on the first line of stdin, then stdin's end = stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(NICENESS)
    reports = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # a library printing to stdout must not garble the reports
    from mlflow import MlflowClient

    from nbstudio.automl.metrics import primary_metric
    from nbstudio.automl.trials import LogTail, TrialRecorder

    reports.write(json.dumps({"ready": True}) + "\n")
    first = sys.stdin.readline()
    if not first:  # a spare writer no job took: the kernel has ended
        return
    spec = json.loads(first)
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()

    recorder = TrialRecorder(
        MlflowClient(tracking_uri=spec["tracking_uri"]),
        spec["experiment_id"],
        spec["parent_run_id"],
        primary_metric(spec["metric"], spec["task"]),
    )
    tail = LogTail(Path(spec["log_path"]))
    while True:
        stopping = stop.wait(POLL_SECONDS)
        for done in recorder.record(tail.new_lines()):
            report = {"error": done} if isinstance(done, str) else {"trial": done.to_json()}
            reports.write(json.dumps(report) + "\n")
        if stopping:
            return
