"""Every FLAML trial as an MLflow child run, written in the background while FLAML runs.

FLAML appends one JSON line per trial to its log file (learner, config, validation loss, trial
and wall-clock time). `TrialWriter` tails that file from a thread and records each line as a
child run of the job's parent run: params (the learner and its config), metrics (the primary
metric, train time, prediction time, sample size), and the best value so far as a metric of the
parent, so the live monitor charts the search as it goes. A child run written synchronously costs
about 60 ms on SQLite, a third of a 30 s budget at FLAML's pace: here FLAML never waits for it.
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID, MLFLOW_RUN_NAME

from nbstudio.automl.metrics import PrimaryMetric

TAG_TRIAL = "nbstudio.automl.trial"
TAG_ESTIMATOR = "nbstudio.automl.estimator"
PARAM_ESTIMATOR = "estimator"
POLL_SECONDS = 0.5
_MAX_PARAM_CHARS = 6000


@dataclass
class TrialRecord:
    """One line of FLAML's log as nbstudio reads it."""

    number: int
    estimator: str
    config: dict[str, Any]
    score: float
    metrics: dict[str, float]
    wall_clock_time: float
    run_id: str = ""

    @classmethod
    def from_line(cls, line: dict[str, Any], metric: PrimaryMetric) -> TrialRecord:
        loss = float(line.get("validation_loss", math.nan))
        metrics: dict[str, float] = {}
        logged = line.get("logged_metric")
        if isinstance(logged, dict):
            for key, value in logged.items():
                number = _float(value)
                if number is not None:
                    metrics[key] = number
        score = metrics.get(metric.name, metric.score_from_loss(loss))
        metrics[metric.name] = score
        metrics["validation_loss"] = loss
        for key in ("trial_time", "wall_clock_time", "sample_size"):
            number = _float(line.get(key))
            if number is not None:
                metrics["train_time" if key == "trial_time" else key] = number
        return cls(
            number=int(line.get("record_id", 0)),
            estimator=str(line.get("learner", "")),
            config=dict(line.get("config") or {}),
            score=score,
            metrics=metrics,
            wall_clock_time=float(line.get("wall_clock_time") or 0.0),
        )


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@dataclass
class TrialWriter:
    """Tails FLAML's log file and writes child runs of ``parent_run_id``; see the module doc."""

    client: MlflowClient
    experiment_id: str
    parent_run_id: str
    log_path: Path
    metric: PrimaryMetric
    extra_tags: dict[str, str] = field(default_factory=dict)
    records: list[TrialRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    best: TrialRecord | None = None

    def __post_init__(self) -> None:
        self._offset = 0
        self._buffer = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> TrialWriter:
        self._thread = threading.Thread(target=self._follow, name="nbstudio-automl", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop tailing and write every trial FLAML logged (also after an interrupt)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.drain()

    def _follow(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            self.drain()

    def drain(self) -> None:
        """Read the lines added since the last call and record each as a child run."""
        with self._lock:
            progress: list[Metric] = []
            for line in self._new_lines():
                try:
                    record = TrialRecord.from_line(line, self.metric)
                    progress += self._write(record)
                except Exception as exc:  # the store refused: say so at the end, keep going
                    self.errors.append(f"trial {line.get('record_id')}: {exc}")
            if progress:  # the parent's best-so-far points of every new trial, in one write
                try:
                    self.client.log_batch(self.parent_run_id, metrics=progress)
                except Exception as exc:
                    self.errors.append(f"best-so-far of the parent run: {exc}")

    def _new_lines(self) -> list[dict[str, Any]]:
        try:
            with self.log_path.open(encoding="utf-8") as handle:
                handle.seek(self._offset)
                text = handle.read()
                self._offset = handle.tell()
        except FileNotFoundError:
            return []
        self._buffer += text
        *complete, self._buffer = self._buffer.split("\n")
        lines = []
        for raw in complete:
            try:
                parsed = json.loads(raw)
            except ValueError:
                continue
            if isinstance(parsed, dict) and "learner" in parsed:  # not the summary line
                lines.append(parsed)
        return lines

    def _write(self, record: TrialRecord) -> list[Metric]:
        """Record one trial as a child run; returns the parent's points for it (best so far)."""
        now = int(time.time() * 1000)
        name = f"trial-{record.number}-{record.estimator}"
        tags = {
            MLFLOW_PARENT_RUN_ID: self.parent_run_id,
            TAG_TRIAL: str(record.number),
            TAG_ESTIMATOR: record.estimator,
            **self.extra_tags,
        }
        train_ms = int(1000 * record.metrics.get("train_time", 0.0))
        run = self.client.create_run(
            self.experiment_id, start_time=now - train_ms, tags=tags, run_name=name
        )
        params = [Param(PARAM_ESTIMATOR, record.estimator)] + [
            Param(key, _param_text(value)) for key, value in sorted(record.config.items())
        ]
        metrics = [Metric(key, value, now, 0) for key, value in record.metrics.items()]
        self.client.log_batch(
            run.info.run_id, metrics=metrics, params=params, tags=[RunTag(MLFLOW_RUN_NAME, name)]
        )
        self.client.set_terminated(run.info.run_id, "FINISHED", end_time=now)
        record.run_id = run.info.run_id
        self.records.append(record)
        better = self.best is None or (
            record.score > self.best.score
            if self.metric.higher_is_better
            else record.score < self.best.score
        )
        if better:
            self.best = record
        assert self.best is not None
        return [
            Metric(self.metric.name, self.best.score, now, record.number),
            Metric("trials", float(len(self.records)), now, record.number),
        ]


def _param_text(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text[:_MAX_PARAM_CHARS]
