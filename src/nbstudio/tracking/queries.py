"""Read-only views of the store for people: latest runs as a table, the workspace at a glance."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import mlflow
import pandas as pd
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException

from nbstudio.errors import RunError
from nbstudio.session import Session, get_session


def list_runs(experiment: str | None = None, max_results: int = 20) -> pd.DataFrame:
    """The newest runs of ``experiment`` (default experiment if None), one row each.

    Columns: run name, status, start time, duration (s), then ``param.*`` and ``metric.*`` (last
    value); indexed by run id. An experiment with no runs gives an empty frame with those columns.
    """
    session = get_session()
    session.workspace  # noqa: B018 - opens the store and points MLflow at it
    name = experiment or session.default_experiment()
    found = session.client().get_experiment_by_name(name)
    if found is None:
        raise RunError(f"No experiment named {name!r}. %mlworkspace shows the default one.")
    try:
        raw = mlflow.search_runs(
            experiment_ids=[found.experiment_id],
            max_results=max_results,
            order_by=["attributes.start_time DESC"],
        )
    except MlflowException as exc:
        raise RunError(f"Cannot list runs: {exc.message}") from None
    columns = ["run_name", "status", "start_time", "duration_s"]
    if raw.empty:
        return pd.DataFrame(columns=columns).rename_axis("run_id")
    table = pd.DataFrame(
        {
            "run_name": raw.get("tags.mlflow.runName"),
            "status": raw["status"],
            "start_time": raw["start_time"],
            "duration_s": (raw["end_time"] - raw["start_time"]).dt.total_seconds().round(2),
        }
    )
    for prefix, label in (("params.", "param."), ("metrics.", "metric.")):
        for column in sorted(c for c in raw.columns if c.startswith(prefix)):
            table[label + column[len(prefix) :]] = raw[column]
    table.index = pd.Index(raw["run_id"], name="run_id")
    return table


@dataclass
class WorkspaceSummary:
    """What ``%mlworkspace`` shows."""

    root: str
    tracking_uri: str
    artifact_root: str
    default_experiment: str
    experiments: int
    runs_by_status: dict[str, int] = field(default_factory=dict)

    def _rows(self) -> list[tuple[str, str]]:
        runs = ", ".join(f"{n} {s.lower()}" for s, n in sorted(self.runs_by_status.items()))
        return [
            ("Workspace", self.root),
            ("Tracking URI", self.tracking_uri),
            ("Artifact root", self.artifact_root),
            ("Default experiment", self.default_experiment),
            ("Experiments", str(self.experiments)),
            ("Runs", runs or "none yet"),
        ]

    def __repr__(self) -> str:
        return "\n".join(f"{k + ':':20} {v}" for k, v in self._rows())

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in self._rows()
        )
        return f"<table class='nbstudio-workspace'>{rows}</table>"


def workspace_summary(session: Session | None = None) -> WorkspaceSummary:
    session = session or get_session()
    ws = session.workspace
    client = session.client()
    experiments = client.search_experiments(view_type=ViewType.ACTIVE_ONLY)
    counts: dict[str, int] = {}
    if experiments:
        page_token = None
        while True:  # paged: only run infos are used, and a page is 1,000 runs
            page = client.search_runs(
                [e.experiment_id for e in experiments],
                max_results=1000,
                page_token=page_token,
            )
            for run in page:
                counts[run.info.status] = counts.get(run.info.status, 0) + 1
            page_token = page.token
            if not page_token:
                break
    return WorkspaceSummary(
        root=str(ws.root),
        tracking_uri=ws.tracking_uri,
        artifact_root=str(ws.artifact_root),
        default_experiment=session.default_experiment(),
        experiments=len(experiments),
        runs_by_status=counts,
    )
