"""A deployment's data collector: a sample of the inputs its model scored, as Parquet files.

Like Azure's model data collector (``model_inputs``): with ``collect_inputs`` = a rate in [0, 1]
(0, the default, is off), the worker keeps that share of its successful requests' parsed input
DataFrames, with a ``REQUEST_TIME`` column (UTC), and writes them under ``<workspace>/.nbstudio/
collected/<endpoint>/<deployment>/model_inputs/<UTC date>/<pid>-<n>.parquet``.
`nbstudio.drift.sources` reads them back for ``drift(..., current="endpoint:NAME")``.

Collection never fails or slows a request beyond a random draw and a copy of the sampled frame:
a background thread writes the buffer when it holds `FLUSH_ROWS` rows or every
``NBSTUDIO_COLLECT_FLUSH_SECONDS`` seconds (`FLUSH_SECONDS`), and once more when the worker is
stopped gracefully. A write that fails is logged in the deployment's log and its rows dropped.
Files are written under a temporary name and renamed, so a reader never sees half a file.

The collected files live outside the endpoint's own folder on purpose: deleting the endpoint
keeps them (as Azure keeps the collected blobs); delete the folder to drop them.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nbstudio.endpoints.errors import EndpointError

log = logging.getLogger("nbstudio.endpoints.collector")

REQUEST_TIME = "nbstudio_request_time"
FLUSH_ROWS = 50_000
FLUSH_SECONDS = 5.0
FLUSH_ENV = "NBSTUDIO_COLLECT_FLUSH_SECONDS"
FOLDER = "model_inputs"
COLLECT_HELP = (
    "Keep this share (0 to 1) of the inputs scored, to check drift against endpoint:NAME "
    "(default 0: off)."
)


def check_rate(value: Any, option: str = "--collect-inputs") -> float:
    """A sampling rate in [0, 1] from a number or its text; anything else is a one-line error."""
    if isinstance(value, bool):
        raise EndpointError(f"{option} {value!r}: give a sampling rate from 0 to 1, e.g. 0.5.")
    try:
        rate = float(value)
    except (TypeError, ValueError, OverflowError):
        rate = float("nan")
    if not 0.0 <= rate <= 1.0:  # also refuses nan
        shown = " ".join(str(value).split())[:40]
        raise EndpointError(f"{option} {shown!r}: give a sampling rate from 0 to 1, e.g. 0.5.")
    return rate


def folder(collected: Path, endpoint: str, deployment: str | None = None) -> Path:
    """Where an endpoint's (or one deployment's) sampled inputs are written."""
    base = collected / endpoint
    return base / deployment / FOLDER if deployment else base


def flush_seconds() -> float:
    try:
        return max(0.05, float(os.environ.get(FLUSH_ENV, FLUSH_SECONDS)))
    except ValueError:
        return FLUSH_SECONDS


class Collector:
    """Samples frames at ``rate`` and writes them under ``root`` from a background thread."""

    def __init__(self, rate: float, root: Path, interval: float | None = None) -> None:
        self.rate = rate
        self.root = Path(root)
        self.interval = interval if interval is not None else flush_seconds()
        self._rows: list[Any] = []
        self._count = 0
        self._files = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="nbstudio-collector", daemon=True)
        self._thread.start()

    def offer(self, data: Any) -> None:
        """Keep ``data`` with probability ``rate`` (`sample`, then `keep`); never raises."""
        self.keep(self.sample(data))

    def sample(self, data: Any) -> Any:
        """A copy of ``data`` (the model's input DataFrame) with probability ``rate``, else None.

        Taken before the model runs, so a model that changes its input in place cannot change
        what is collected; never raises."""
        try:
            if self.rate <= 0 or random.random() >= self.rate:
                return None
            import pandas as pd

            if not isinstance(data, pd.DataFrame):
                return None  # tensors and dicts of arrays have no columns to compare
            return data.copy()
        except Exception:
            log.exception("Data collection failed on a request (the request was answered)")
            return None

    def keep(self, frame: Any) -> None:
        """Buffer a sampled frame (None: nothing) with its request time; never raises."""
        if frame is None:
            return
        try:
            # The time column is added by the writer thread: less work on the request's path.
            with self._lock:
                self._rows.append((time.time_ns(), frame))
                self._count += len(frame)
                full = self._count >= FLUSH_ROWS
            if full:
                self._wake.set()
        except Exception:
            log.exception("Data collection failed on a request (the request was answered)")

    def _loop(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            self.flush()

    def flush(self) -> Path | None:
        """Write what the buffer holds as one Parquet file (logged, not raised, on failure)."""
        with self._lock:
            frames, self._rows, self._count = self._rows, [], 0
        if not frames:
            return None
        try:
            return self._write(frames)
        except Exception as exc:
            rows = sum(len(f) for _, f in frames)
            log.error("Data collection could not write %d sampled rows: %s", rows, exc)
            return None

    def _write(self, frames: list[tuple[int, Any]]) -> Path:
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        frame = pd.concat(
            [f.assign(**{REQUEST_TIME: pd.Timestamp(ns, unit="ns", tz="UTC")}) for ns, f in frames],
            ignore_index=True,
        )
        frame.columns = [str(c) for c in frame.columns]  # Parquet names columns with strings
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        target_dir = self.root / day
        target_dir.mkdir(parents=True, exist_ok=True)
        self._files += 1
        name = f"{os.getpid()}-{self._files}"
        while (target_dir / f"{name}.parquet").exists():  # an earlier worker had this pid
            self._files += 1
            name = f"{os.getpid()}-{self._files}"
        target = target_dir / f"{name}.parquet"
        partial = target_dir / f".{name}.parquet.partial"
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), partial)
        os.replace(partial, target)
        return target

    def close(self) -> None:
        """Stop the thread and write what is left (the worker's graceful stop)."""
        self._stopped.set()
        self._wake.set()
        self._thread.join(5.0)
        self.flush()
