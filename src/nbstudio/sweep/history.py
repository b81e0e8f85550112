"""A sweep's trials as recorded in MLflow: the one source of truth for resume and for views.

Each trial is a child run of the sweep's parent run. Its tags hold its number and what Optuna
needs to rebuild the study (the raw sampled values and the sampler's per-trial records), so a
sweep can be resumed in a new kernel without any file besides the tracking store.
"""

from __future__ import annotations

import ast
import contextlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

from mlflow import MlflowClient
from mlflow.entities import Run

from nbstudio.sweep.trial import TAG_TRIAL, TAG_TRIAL_OPTUNA, TAG_TRIAL_VALUE

TAG_PARENT = "mlflow.parentRunId"
TAG_TERMINATED_BY = "nbstudio.terminated_by"
# Reasons for which a KILLED trial counts as done; any other (an interrupt, a dead kernel) means
# the trial was cut short by accident and is run again when the sweep resumes.
DONE_KILL_REASONS = frozenset(
    {"bandit", "median_stopping", "truncation_selection", "trial_timeout", "timeout"}
)
STATES = ("queued", "running", "finished", "killed", "failed")


def trial_state(status: str, terminated_by: str | None) -> str:
    """The trial's state: running, finished, killed, failed, or interrupted (to run again)."""
    if status == "FINISHED":
        return "finished"
    if status == "FAILED":
        return "failed"
    if status == "KILLED":
        return "killed" if terminated_by in DONE_KILL_REASONS else "interrupted"
    return "running"


@dataclass
class TrialRecord:
    """One trial read back from its child run."""

    number: int
    run_id: str
    run_name: str
    status: str
    terminated_by: str | None
    params: dict[str, str]
    value: float | None
    start_time: int | None
    end_time: int | None
    raw: dict[str, Any] | None = None
    system_attrs: dict[str, Any] = field(default_factory=dict)
    study_attrs: dict[str, Any] = field(default_factory=dict)
    values: list[float] = field(default_factory=list)

    @property
    def state(self) -> str:
        return trial_state(self.status, self.terminated_by)

    @property
    def done(self) -> bool:
        """Counts towards max_total_trials (ended, and not by accident)."""
        return self.state in ("finished", "killed", "failed")

    def typed_params(self) -> dict[str, Any]:
        """Params as Python values (MLflow stores text; ``repr`` of non-strings)."""
        typed: dict[str, Any] = {}
        for key, text in self.params.items():
            try:
                typed[key] = ast.literal_eval(text)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                typed[key] = text
        return typed


def child_runs(client: MlflowClient, parent: Run) -> list[Run]:
    """Every child run of ``parent``, paged."""
    runs: list[Run] = []
    token = None
    while True:
        page = client.search_runs(
            [parent.info.experiment_id],
            filter_string=f"tags.`{TAG_PARENT}` = '{parent.info.run_id}'",
            max_results=1000,
            page_token=token,
        )
        runs.extend(page)
        token = page.token
        if not token:
            return runs


def _record(run: Run, metric: str) -> TrialRecord | None:
    tags = run.data.tags
    try:
        number = int(tags[TAG_TRIAL])
    except (KeyError, ValueError):
        return None  # a run nested by hand under the sweep, not one of its trials
    optuna_state: dict[str, Any] = {}
    if tags.get(TAG_TRIAL_OPTUNA):
        try:
            optuna_state = json.loads(tags[TAG_TRIAL_OPTUNA])
        except ValueError:
            optuna_state = {}
    value = run.data.metrics.get(metric)
    with contextlib.suppress(KeyError, ValueError):
        value = float(tags[TAG_TRIAL_VALUE])  # the last report (see trial._record_value)
    return TrialRecord(
        number=number,
        run_id=run.info.run_id,
        run_name=run.info.run_name,
        status=run.info.status,
        terminated_by=tags.get(TAG_TERMINATED_BY),
        params=dict(run.data.params),
        value=value if value is not None and math.isfinite(value) else None,
        start_time=run.info.start_time,
        end_time=run.info.end_time,
        raw=optuna_state.get("raw"),
        system_attrs=optuna_state.get("system_attrs", {}),
        study_attrs=optuna_state.get("study_attrs", {}),
    )


def read_trials(
    client: MlflowClient, parent: Run, metric: str, with_histories: bool = False
) -> list[TrialRecord]:
    """The sweep's trials, by number; with each one's reports of ``metric`` if asked."""
    records = [r for run in child_runs(client, parent) if (r := _record(run, metric))]
    records.sort(key=lambda r: (r.number, r.start_time or 0))
    if with_histories:
        for record in records:
            history = client.get_metric_history(record.run_id, metric)
            history = sorted(history, key=lambda m: (m.step, m.timestamp))
            record.values = [m.value for m in history]
    return records
