"""Batch endpoints as a workspace resource kind (see `nbstudio.resources`).

``<workspace>/.nbstudio/batch/NAME/endpoint.json`` holds a `BatchSpec`: the model alias it scores
with and the defaults of its jobs. A batch endpoint has no process of its own (each invocation
is a job, an MLflow run, see `nbstudio.batch.jobs`), so its kind never launches one; the record
folder, the locked read-modify-write and the listing are the shared core's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from nbstudio.batch.errors import BatchError, UnknownBatchEndpointError
from nbstudio.resources.kind import Kind
from nbstudio.resources.record import Record, now_ms
from nbstudio.resources.records import ResourceRecords

OUTPUT_ACTIONS = ("append_row", "summary_only")
# Azure ML's batch deployment defaults, except error_threshold: -1 there ignores every failed
# mini-batch; here a job with a failed partition fails unless the user allows some.
DEFAULTS = {
    "compute": "local",
    "mini_batch_size": 1,
    "max_concurrency": 2,
    "output_action": "append_row",
    "error_threshold": 0,
    "retries": 3,
}
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")


@dataclass
class BatchSpec(Record):
    name: str
    model: str
    compute: str = "local"
    mini_batch_size: int = 1
    max_concurrency: int = 2
    output_action: str = "append_row"
    error_threshold: int = 0
    retries: int = 3
    generation: int = 1
    created: int = field(default_factory=now_ms)

    def __repr__(self) -> str:
        threshold = "any" if self.error_threshold < 0 else str(self.error_threshold)
        return (
            f"Batch endpoint {self.name}: model {self.model} on {self.compute}; "
            f"{self.mini_batch_size} file(s) per partition, {self.max_concurrency} at once per "
            f"node, {self.output_action}, failed partitions allowed: {threshold}, "
            f"retries {self.retries}"
        )


@dataclass
class BatchStatus(Record):
    """Unused (no process); the kind's core wants a status class."""

    state: str = "ready"
    updated: int = field(default_factory=now_ms)


KIND = Kind(
    name="batch endpoint",
    spec_class=BatchSpec,
    status_class=BatchStatus,
    module="nbstudio.batch.jobs",  # never launched: a batch endpoint has no process
    spec_file="endpoint.json",
    live=(),
)


class Records(ResourceRecords[BatchSpec, BatchStatus]):
    kind = KIND

    def missing(self, name: str) -> Exception:
        known = ", ".join(self.names()) or "none yet"
        return UnknownBatchEndpointError(f"No batch endpoint named {name!r} (have: {known}).")


def records(root: Path | None = None) -> Records:
    from nbstudio.session import get_session

    ws = get_session().located_workspace()
    return Records((root or ws.data_dir) / "batch")


def check_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise BatchError(
            f"{name!r} is not a valid batch endpoint name: a letter, then letters, digits, - or _ "
            "(at most 32 characters)."
        )
    return name


def check_settings(spec: BatchSpec) -> BatchSpec:
    """Refuse settings no job could run with, naming the option."""
    if spec.output_action not in OUTPUT_ACTIONS:
        raise BatchError(
            f"--output-action {spec.output_action!r}: use {' or '.join(OUTPUT_ACTIONS)}."
        )
    for option, value, low in (
        ("--mini-batch-size", spec.mini_batch_size, 1),
        ("--max-concurrency", spec.max_concurrency, 1),
        ("--retries", spec.retries, 0),
        ("--error-threshold", spec.error_threshold, -1),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 10_000:
            raise BatchError(f"{option} {value!r}: give a whole number from {low} to 10000.")
    return spec
