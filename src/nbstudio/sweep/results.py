"""A sweep as the user holds it: best trial, trials table, charts; always read from MLflow.

`Sweep` keeps only the parent run id: every property reads the store, so a `Sweep` shows the
latest state of a sweep that is still running (in this kernel or another) and of a resumed one.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import pandas as pd
from mlflow.exceptions import MlflowException

from nbstudio.session import Session, get_session
from nbstudio.sweep.errors import SweepError
from nbstudio.sweep.history import STATES, TrialRecord, read_trials
from nbstudio.sweep.settings import TAG_SWEEP, SweepSettings
from nbstudio.tracking.result import STATUS_COLOURS, format_params, format_value


@dataclass(frozen=True)
class BestTrial:
    """The best trial: a finished one if any, else the best stopped early."""

    number: int
    run_id: str
    value: float
    params: dict[str, Any]
    metric: str = ""

    def __repr__(self) -> str:
        params = format_params(self.params)
        return f"trial {self.number}: {self.metric}={format_value(self.value)} ({params})"


def best_of(records: list[TrialRecord], settings: SweepSettings) -> BestTrial | None:
    """The best trial among ``records`` (finished beat stopped; then by value)."""
    best: tuple[Any, TrialRecord] | None = None
    for r in records:
        if r.value is None or r.state not in ("finished", "killed"):
            continue
        rank = (r.state == "finished", r.value if settings.maximize else -r.value)
        if best is None or rank > best[0]:
            best = (rank, r)
    if best is None:
        return None
    record = best[1]
    typed = record.typed_params()
    return BestTrial(
        number=record.number,
        run_id=record.run_id,
        value=float(record.value),  # type: ignore[arg-type]
        params={k: typed[k] for k in settings.space if k in typed},
        metric=settings.metric,
    )


def count_states(records: list[TrialRecord], settings: SweepSettings, ended: bool) -> dict:
    """Trials by state, as the side panel shows them (interrupted ones count as killed)."""
    counts = dict.fromkeys(STATES, 0)
    for r in records:
        state = "killed" if r.state == "interrupted" else r.state
        counts[state] += 1
    if not ended:
        done = counts["finished"] + counts["killed"] + counts["failed"] + counts["running"]
        counts["queued"] = max(0, settings.max_total_trials - done)
    return counts


class Sweep:
    """A sweep (parent run and its trials); see `get_sweep`.

    Example:
        >>> s = nbstudio.get_sweep(run_id)  # doctest: +SKIP
        >>> s.best.params, s.best.value  # doctest: +SKIP
        >>> s.trials.sort_values("value").head()  # doctest: +SKIP
        >>> s.plot()  # doctest: +SKIP
    """

    def __init__(self, parent_run_id: str, session: Session | None = None) -> None:
        self.run_id = parent_run_id
        self._session = session or get_session()
        self._session.workspace  # noqa: B018 - opens the store and points MLflow at it
        self.refresh()

    def refresh(self) -> Sweep:
        """Read the parent run again (status, tags)."""
        try:
            self._run = self._session.client().get_run(self.run_id)
        except MlflowException:
            raise SweepError(f"no run {self.run_id!r} in this workspace") from None
        if self._run.data.tags.get(TAG_SWEEP) != "true":
            raise SweepError(f"run {self._run.info.run_name!r} ({self.run_id}) is not a sweep")
        self.settings = SweepSettings.from_tags(self._run.data.tags)
        return self

    @property
    def name(self) -> str:
        return self._run.info.run_name

    @property
    def status(self) -> str:
        return self.refresh()._run.info.status

    @property
    def end_reason(self) -> str | None:
        return self._run.data.tags.get("nbstudio.sweep.end_reason")

    def records(self) -> list[TrialRecord]:
        return read_trials(self._session.client(), self._run, self.settings.metric)

    @property
    def best(self) -> BestTrial | None:
        """The best trial's number, run id, metric value and params."""
        return best_of(self.records(), self.settings)

    @property
    def counts(self) -> dict[str, int]:
        ended = self.status != "RUNNING"
        return count_states(self.records(), self.settings, ended)

    @property
    def trials(self) -> pd.DataFrame:
        """One row per trial, indexed by trial number: state, value, duration, then params."""
        return trials_frame(self.records(), self.settings)

    def plot(self) -> Any:
        """A plotly figure: value of each trial and best so far; parallel coordinates below."""
        from nbstudio.sweep.plots import sweep_figure

        return sweep_figure(self.trials, self.settings, title=self.name)

    def _summary(self) -> tuple[str, dict[str, int], BestTrial | None]:
        records = self.records()
        status = self.status
        return (
            status,
            count_states(records, self.settings, status != "RUNNING"),
            best_of(records, self.settings),
        )

    def __repr__(self) -> str:
        status, counts, best = self._summary()
        done = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        lines = [
            f"Sweep {self.name} ({self.run_id}): {status}, {self.settings.goal} "
            f"{self.settings.metric}; trials: {done or 'none'}"
        ]
        lines.append(f"  best: {best!r}" if best else "  best: none yet")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        status, counts, best = self._summary()
        esc = html.escape
        colour = STATUS_COLOURS.get(status, "#605e5c")
        badge = (
            f'<span style="background:{colour};color:white;border-radius:3px;'
            f'padding:1px 6px;font-size:0.85em">{esc(status)}</span>'
        )
        cells = "".join(f"<td>{n} {esc(s)}</td>" for s, n in counts.items() if n)
        best_html = "no trial has a value yet"
        if best is not None:
            params = esc(format_params(best.params))
            best_html = (
                f"best {esc(self.settings.metric)} = <b>{esc(format_value(best.value))}</b> "
                f"(trial {best.number}: {params})"
            )
        return (
            '<div class="nbstudio-sweep-summary">'
            f"<b>Sweep {esc(self.name)}</b> {badge} "
            f'<code style="font-size:0.8em">{esc(self.run_id)}</code>'
            f"<div>{esc(describe_settings(self.settings))}</div><table><tr>{cells}</tr></table><div>{best_html}</div></div>"
        )


def describe_settings(settings: SweepSettings) -> str:
    """One line: goal, metric, sampling and policy, as the summary and the monitor show them."""
    return (
        f"{settings.goal} {settings.metric}, {settings.sampling} sampling, policy {settings.policy}"
    )


def trials_frame(records: list[TrialRecord], settings: SweepSettings) -> pd.DataFrame:
    rows = []
    for r in records:
        typed = r.typed_params()
        duration = None
        if r.start_time and r.end_time:
            duration = round((r.end_time - r.start_time) / 1000, 3)
        rows.append(
            {
                "trial": r.number,
                "state": r.state,
                "value": r.value,
                "terminated_by": r.terminated_by,
                "duration_s": duration,
                "run_id": r.run_id,
                "run_name": r.run_name,
                **{k: typed.get(k) for k in settings.space},
            }
        )
    columns = [
        "trial",
        "state",
        "value",
        "terminated_by",
        "duration_s",
        "run_id",
        "run_name",
        *settings.space,
    ]
    return pd.DataFrame(rows, columns=columns).set_index("trial")


def get_sweep(parent_run_id: str) -> Sweep:
    """The sweep whose parent run is ``parent_run_id`` (from this workspace's store)."""
    return Sweep(parent_run_id)
