"""What every reader of runs returns, whichever store it reads (SQL tables or MlflowClient).

One set of shapes for the panel's pages of runs and for the monitors' change feed, so the two
readers (`nbstudio.tracking.sqlreader`, `nbstudio.tracking.clientreader`) are interchangeable and
tests can compare their answers field by field.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from mlflow.utils.mlflow_tags import MLFLOW_RUN_NAME

from nbstudio.tracking.context import TAG_REUSED_FROM

TERMINAL_STATUSES = frozenset({"FINISHED", "FAILED", "KILLED"})
#: One metric point as the monitors use it: (step, timestamp in ms, value).
MetricPoint = tuple[int, int, float]
#: At most this many child runs are followed (a sweep of more trials shows the newest).
MAX_CHILDREN = 1000
#: The tags a `ChildRun` is made of (read with the child runs, nothing else).
CHILD_TAGS = (MLFLOW_RUN_NAME, TAG_REUSED_FROM)


class Unsupported(Exception):
    """A search the SQL reader does not translate; MLflow's own search must answer it."""


@dataclass
class RunRecord:
    """The parts of a run the panel shows."""

    run_id: str
    run_name: str | None
    experiment_id: str
    status: str
    start_time: int | None
    end_time: int | None
    artifact_uri: str | None
    lifecycle_stage: str
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class ExperimentStats:
    run_count: int
    last_activity: int | None


@dataclass
class RunPage:
    """One page of runs and the position of the next one (None: last page)."""

    runs: list[RunRecord]
    next_offset: int | None = None
    next_cursor: str | None = None


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class ChildRun:
    """A child run (nested run, sweep trial) as a monitor's table shows it."""

    run_id: str
    name: str
    status: str
    start_time: int | None
    end_time: int | None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    reused_from: str | None = None  # a reused pipeline step: the run whose work it reuses

    @property
    def ended(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def duration(self, now: int | None = None) -> float | None:
        """Seconds from start to end, or to ``now`` (ms, default: now) while it runs."""
        if self.start_time is None:
            return None
        end = self.end_time if self.ended and self.end_time else now or now_ms()
        return max(0.0, (end - self.start_time) / 1000)

    @classmethod
    def of(cls, record: RunRecord) -> ChildRun:
        return cls(
            run_id=record.run_id,
            name=record.run_name or record.run_id[:8],
            status=record.status,
            start_time=record.start_time,
            end_time=record.end_time,
            params=dict(record.params),
            metrics=dict(record.metrics),
            reused_from=record.tags.get(TAG_REUSED_FROM),
        )


@dataclass(frozen=True)
class ChangeCursor:
    """Where the previous read stopped. Treat it as opaque: pass it back to `changes_since`."""

    metric_row: int = 0
    """Embedded store: rowid of the last metric row read."""
    param_row: int = 0
    """Embedded store: rowid of the last param row read."""
    metric_counts: Mapping[str, int] = field(default_factory=dict)
    """Other stores: points already read per metric key."""
    param_keys: frozenset[str] = frozenset()
    """Other stores: params already reported."""
    children: Mapping[str, tuple[int, bool]] = field(default_factory=dict)
    """Child run id -> (version last reported, whether it had ended then)."""


@dataclass
class RunChanges:
    """What a run looks like now and what is new in it since the cursor passed in."""

    run_id: str
    run_name: str
    experiment_id: str
    status: str
    start_time: int | None
    end_time: int | None
    params: dict[str, str]
    """Params logged since the cursor (all of them on a first read)."""
    metrics: dict[str, list[MetricPoint]]
    """New points per metric key, in the order they reached the store (MLflow's asynchronous
    logging may commit a batch before an earlier one)."""
    children: list[ChildRun]
    """Child runs that appeared or changed (status, params, latest metrics) since the cursor."""
    cursor: ChangeCursor

    @property
    def ended(self) -> bool:
        """True once the run is FINISHED, FAILED or KILLED: nothing more will be logged."""
        return self.status in TERMINAL_STATUSES

    @property
    def has_news(self) -> bool:
        return bool(self.params or self.metrics or self.children)

    def elapsed(self, now: int | None = None) -> float:
        """Seconds the run has been going (its duration once ended)."""
        if self.start_time is None:
            return 0.0
        end = self.end_time if self.ended and self.end_time else now or now_ms()
        return max(0.0, (end - self.start_time) / 1000)


def _version(child: ChildRun) -> int:
    """A fingerprint of what a monitor shows of a child (NaN-safe, unlike comparing floats)."""
    return hash(
        (
            child.status,
            child.end_time,
            child.name,
            tuple(sorted((k, repr(v)) for k, v in child.metrics.items())),
            tuple(sorted(child.params.items())),
        )
    )


def changed_children(
    children: list[ChildRun], known: Mapping[str, tuple[int, bool]]
) -> tuple[list[ChildRun], dict[str, tuple[int, bool]]]:
    """The children that changed since ``known``, and the marks to remember for the next read."""
    changed = []
    marks = dict(known)
    for child in children:
        version = _version(child)
        if known.get(child.run_id, (None, False))[0] != version:
            changed.append(child)
        marks[child.run_id] = (version, child.ended)
    return changed, marks
