"""Every FLAML trial as an MLflow child run: FLAML's log line in, a finished child run out.

FLAML appends one JSON line per trial to its log file (learner, config, validation loss, trial
and wall-clock time). `TrialRecorder` reads the lines added since its last call (`LogTail`) and
records each as a child run of the job's parent run: params (the learner and its config),
metrics (the primary metric, train time, prediction time, sample size), and the best value so
far as a metric of the parent, so the live monitor charts the search as it goes. It runs in the
trial writer's own process (`automl.writer`), never beside FLAML in the kernel.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mlflow import MlflowClient
from mlflow.entities import Metric
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from nbstudio.automl.metrics import PrimaryMetric
from nbstudio.tracking.bulk import RunRows, write_runs

TAG_TRIAL = "nbstudio.automl.trial"
TAG_ESTIMATOR = "nbstudio.automl.estimator"
PARAM_ESTIMATOR = "estimator"
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

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def beats(self, best: TrialRecord | None, higher_is_better: bool) -> bool:
        """True if this trial is the new best (ties go to the earlier trial, as in FLAML)."""
        if best is None:
            return True
        return self.score > best.score if higher_is_better else self.score < best.score


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


class LogTail:
    """The complete trial lines appended to FLAML's log file since the last call."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._buffer = ""

    def new_lines(self) -> list[dict[str, Any]]:
        try:
            with self.path.open(encoding="utf-8") as handle:
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


class TrialRecorder:
    """Writes trial lines as child runs of ``parent_run_id``, and the parent's best so far.

    Every write is synchronous: the process inherits the kernel's environment, where a tracked
    run may have switched MLflow to asynchronous logging, whose queue would die with the process.
    """

    def __init__(
        self, client: MlflowClient, experiment_id: str, parent_run_id: str, metric: PrimaryMetric
    ) -> None:
        self.client = client
        self.experiment_id = experiment_id
        self.parent_run_id = parent_run_id
        self.metric = metric
        self.count = 0
        self.best: TrialRecord | None = None

    def record(self, lines: list[dict[str, Any]]) -> list[TrialRecord | str]:
        """Each line's record (with its run id) or, where the store refused it, an error line.

        The new trials are written together (`tracking.bulk`: one transaction on a SQL store),
        then the parent's best-so-far points of every one of them in one more write."""
        done: list[TrialRecord | str] = []
        records: list[TrialRecord] = []
        for line in lines:
            try:
                records.append(TrialRecord.from_line(line, self.metric))
            except Exception as exc:  # an unreadable line: said at the end, the search goes on
                done.append(f"trial {line.get('record_id')}: {exc}")
        written = write_runs(self.client, self.experiment_id, [self._rows(r) for r in records])
        progress: list[Metric] = []
        for record, outcome in zip(records, written, strict=True):
            if isinstance(outcome, Exception):
                done.append(f"trial {record.number}: {outcome}")
                continue
            record.run_id = outcome
            done.append(record)
            self.count += 1
            if record.beats(self.best, self.metric.higher_is_better):
                self.best = record
            assert self.best is not None
            now = int(time.time() * 1000)
            progress += [
                Metric(self.metric.name, self.best.score, now, record.number),
                Metric("trials", float(self.count), now, record.number),
            ]
        if progress:
            try:
                self.client.log_batch(self.parent_run_id, metrics=progress, synchronous=True)
            except Exception as exc:
                done.append(f"best-so-far of the parent run: {exc}")
        return done

    def _rows(self, record: TrialRecord) -> RunRows:
        """The finished child run of one trial: it started ``train_time`` before now."""
        now = int(time.time() * 1000)
        return RunRows(
            name=f"trial-{record.number}-{record.estimator}",
            start_time=now - int(1000 * record.metrics.get("train_time", 0.0)),
            end_time=now,
            tags={
                MLFLOW_PARENT_RUN_ID: self.parent_run_id,
                TAG_TRIAL: str(record.number),
                TAG_ESTIMATOR: record.estimator,
            },
            params={PARAM_ESTIMATOR: record.estimator}
            | {key: _param_text(value) for key, value in sorted(record.config.items())},
            metrics=dict(record.metrics),
        )


def _param_text(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text[:_MAX_PARAM_CHARS]
