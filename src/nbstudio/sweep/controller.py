"""The sweep controller: a parent run, an Optuna study asked for trials, a policy judging them.

The loop asks Optuna (ask-and-tell) for parameters, hands each trial to an executor (the kernel
by default), judges every report of the primary metric with the early-termination policy, tells
Optuna how each trial ended, and keeps the parent run up to date (best value so far as its
metric, best run as a tag). MLflow holds the whole record: the settings on the parent run, every
trial on its child run, and the sampler's own state, so `resume` rebuilds the study from MLflow
alone and never runs a finished trial again.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import optuna
from mlflow.entities import Metric, Param, Run, RunTag
from mlflow.exceptions import MlflowException
from optuna.trial import TrialState

from nbstudio.session import Session, get_session
from nbstudio.sweep.errors import SweepError
from nbstudio.sweep.executor import LocalExecutor, TrialExecutor, TrialFuture
from nbstudio.sweep.history import TAG_TERMINATED_BY, TrialRecord, read_trials
from nbstudio.sweep.policies import NoTerminationPolicy, TrialHistory
from nbstudio.sweep.sampling import make_sampler
from nbstudio.sweep.settings import TAG_PRIMARY_METRIC, SweepSettings
from nbstudio.sweep.trial import TAG_TRIAL, TAG_TRIAL_OPTUNA, TrialOutcome, TrialTask, run_trial
from nbstudio.tracking import RunTerminated, context

TAG_BEST_RUN = "nbstudio.sweep.best_run_id"
TAG_END_REASON = "nbstudio.sweep.end_reason"
TAG_RERUN_OF = "nbstudio.trial.rerun_of"
_POLL_SECONDS = 0.05
# How often the histories of trials running elsewhere (a cluster) are read back and judged.
_REMOTE_JUDGE_SECONDS = 0.5
_MAX_TAG_CHARS = 6000  # MLflow limits tag values to 8,000 characters


@dataclass
class SweepProgress:
    """A snapshot pushed to observers (the magic's display, a monitor) after every change."""

    parent_run_id: str
    run_name: str
    settings: SweepSettings
    counts: dict[str, int]
    best: dict[str, Any] | None
    last: TrialOutcome | None = None
    running: list[int] = field(default_factory=list)
    ended: bool = False
    end_reason: str | None = None


Observer = Callable[[SweepProgress], None]


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    saved = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(saved)


def _json_safe(attrs: dict[str, Any]) -> dict[str, Any]:
    safe = {}
    for key, value in attrs.items():
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            continue
        safe[key] = value
    return safe


class SweepController:
    """Runs one sweep (new or resumed) to its end. Use `run_sweep` rather than this directly."""

    def __init__(
        self,
        objective: Callable[..., Any],
        settings: SweepSettings,
        *,
        parent: Run,
        experiment: str,
        records: list[TrialRecord],
        executor: TrialExecutor,
        session: Session,
        source: str | None = None,
        tags: dict[str, str] | None = None,
        observers: list[Observer] | None = None,
    ) -> None:
        self.objective = objective
        self.settings = settings
        self.parent = parent
        self.parent_run_id = parent.info.run_id
        self.experiment = experiment
        self.executor = executor
        self.session = session
        self.client = session.client()
        self.source = source
        self.extra_tags = dict(tags or {})
        self.observers = observers or []
        self.records = records
        self.histories: dict[int, TrialHistory] = {
            r.number: TrialHistory(tuple(r.values), running=False) for r in records
        }
        self.live: dict[int, list[float]] = {}
        self.outcomes: dict[int, TrialOutcome] = {}
        self.counts = {"finished": 0, "killed": 0, "failed": 0}
        for r in records:
            if r.done:
                self.counts[r.state] += 1
        self.best: dict[str, Any] | None = None
        self._first_error: str | None = None
        self._fatal: SweepError | None = None
        self._deadline: float | None = None
        self._timed_out = False
        self._recorded_best: str | None = None
        self._cancelled: set[int] = set()
        self.study = self._build_study()
        self._update_best_from_records()

    # -- the Optuna study ------------------------------------------------------------------------
    def _build_study(self) -> optuna.Study:
        storage = optuna.storages.InMemoryStorage()
        sampler = make_sampler(
            self.settings.sampling,
            self.settings.space,
            self.settings.seed,
            concurrent=self._concurrency() > 1,
            trials_so_far=len(self.records),
        )
        direction = "maximize" if self.settings.maximize else "minimize"
        study = optuna.create_study(storage=storage, sampler=sampler, direction=direction)
        study_id = storage.get_study_id_from_name(study.study_name)
        self._storage, self._study_id = storage, study_id
        # The sampler's own state (e.g. QMC's position in its sequence) as of the last trial.
        latest = max(self.records, key=lambda r: r.number, default=None)
        for key, value in (latest.study_attrs if latest else {}).items():
            storage.set_study_system_attr(study_id, key, value)
        self._distributions = {k: d.to_optuna() for k, d in self.settings.space.items()}
        for record in self.records:
            if record.number < len(study.trials):
                continue  # a duplicate number: keep the first
            while len(study.trials) < record.number:
                # Keep Optuna's trial numbers equal to the recorded ones.
                study.add_trial(optuna.trial.create_trial(state=TrialState.FAIL))
            study.add_trial(self._frozen(record))
            if record.state == "interrupted" and record.raw is not None:
                # Cut short by an interrupt or a dead kernel: run the same point again.
                study.enqueue_trial(record.raw, user_attrs={"rerun_of": record.number})
        return study

    def _frozen(self, record: TrialRecord) -> optuna.trial.FrozenTrial:
        placeholder = optuna.trial.create_trial(state=TrialState.FAIL)
        if record.raw is None or set(record.raw) != set(self._distributions):
            return placeholder
        state = {
            "finished": TrialState.COMPLETE,
            "killed": TrialState.PRUNED,
        }.get(record.state, TrialState.FAIL)
        value = record.value if state != TrialState.FAIL else None
        if state == TrialState.COMPLETE and value is None:
            state = TrialState.FAIL
        try:
            return optuna.trial.create_trial(
                state=state,
                value=value,
                params=record.raw,
                distributions=self._distributions,
                intermediate_values={k: v for k, v in enumerate(record.values, 1)},
                system_attrs=record.system_attrs,
            )
        except ValueError:
            return placeholder  # recorded under another search space: not usable by the sampler

    @property
    def in_process(self) -> bool:
        """Trials run in this thread: each report is judged as it is made."""
        return isinstance(self.executor, LocalExecutor)

    def _concurrency(self) -> int:
        wanted = self.settings.max_concurrent_trials
        limit = getattr(self.executor, "max_concurrency", None)
        limit = limit or getattr(self.executor, "slots", None)  # nbstudio.compute executors
        return min(wanted, limit or wanted)

    # -- judging reports -------------------------------------------------------------------------
    def judge(self, number: int, values: list[float]) -> str | None:
        """The policy's decision for trial ``number`` after its latest report."""
        self.live[number] = list(values)
        others = [h for n, h in self.histories.items() if n != number]
        others += [TrialHistory(tuple(v)) for n, v in self.live.items() if n != number]
        policy = self.settings.policy
        if policy.should_terminate(values, others, self.settings.maximize):
            return policy.name
        return None

    # -- the loop --------------------------------------------------------------------------------
    def _done_count(self) -> int:
        return sum(self.counts.values())

    def _can_start(self, running: int) -> bool:
        if self._fatal is not None:
            return False
        if self._deadline is not None and time.time() >= self._deadline:
            self._timed_out = True
            return False
        return self._done_count() + running < self.settings.max_total_trials

    def run(self) -> str:
        """Run trials until the limits are reached; returns the end reason."""
        if self.settings.timeout is not None:
            self._deadline = time.time() + self.settings.timeout
        pending: dict[int, tuple[TrialFuture, optuna.Trial]] = {}
        judge = self.judge if self.in_process else None
        next_judging = 0.0
        self._notify()
        try:
            while True:
                while len(pending) < self._concurrency() and self._can_start(len(pending)):
                    trial, task = self._next_task()
                    job = functools.partial(run_trial, task, self.objective, judge)
                    self.live[trial.number] = []
                    self._notify(running=[*pending, trial.number])
                    pending[trial.number] = (self.executor.submit(job), trial)
                    self._collect(pending)
                if not pending:
                    break
                time.sleep(_POLL_SECONDS)
                if not self.in_process and time.monotonic() >= next_judging:
                    self._judge_remote(pending)
                    next_judging = time.monotonic() + _REMOTE_JUDGE_SECONDS
                self._collect(pending)
        except BaseException:
            for future, trial in pending.values():
                if hasattr(future, "cancel") and not self.in_process:
                    with contextlib.suppress(Exception):
                        future.cancel("interrupted")
                self.study.tell(trial, state=TrialState.FAIL)
            raise
        if self._fatal is not None:
            raise self._fatal
        return "timeout" if self._timed_out else "completed"

    def _next_task(self) -> tuple[optuna.Trial, TrialTask]:
        trial = self.study.ask(self._distributions)
        raw = dict(trial.params)
        params = {k: d.value(raw[k]) for k, d in self.settings.space.items()}
        tags = {
            **self.extra_tags,
            TAG_PRIMARY_METRIC: self.settings.metric,
            TAG_TRIAL_OPTUNA: self._optuna_record(trial.number, raw),
        }
        rerun_of = trial.user_attrs.get("rerun_of")
        if rerun_of is not None:
            tags[TAG_RERUN_OF] = str(rerun_of)
        limit = self.settings.trial_timeout
        trial_deadline = None if limit is None else time.time() + limit
        task = TrialTask(
            number=trial.number,
            params={**self.settings.fixed, **params},
            parent_run_id=self.parent_run_id,
            experiment=self.experiment,
            run_name=f"{self.parent.info.run_name}_{trial.number}",
            metric=self.settings.metric,
            tags=tags,
            source=self.source,
            trial_deadline=trial_deadline,
            sweep_deadline=self._deadline,
        )
        return trial, task

    def _optuna_record(self, number: int, raw: dict[str, Any]) -> str:
        """What resuming needs from Optuna, as JSON for the trial's tag: the raw values, the
        sampler's records of this trial and of the study (taken after this trial's ask)."""
        trial_id = self._storage.get_trial_id_from_study_id_trial_number(self._study_id, number)
        record = {
            "raw": raw,
            "system_attrs": _json_safe(self._storage.get_trial_system_attrs(trial_id)),
            "study_attrs": _json_safe(self._storage.get_study_system_attrs(self._study_id)),
        }
        text = json.dumps(record)
        if len(text) > _MAX_TAG_CHARS:
            # Too big for an MLflow tag (e.g. a huge grid): keep what sampling needs most.
            text = json.dumps({"raw": raw, "study_attrs": record["study_attrs"]})
        return text

    def _collect(self, pending: dict[int, tuple[TrialFuture, optuna.Trial]]) -> None:
        for number in [n for n, (future, _) in pending.items() if future.done()]:
            future, trial = pending.pop(number)
            try:
                outcome: TrialOutcome = future.result()
            except (Exception, RunTerminated) as exc:
                if self.in_process and not isinstance(exc, RunTerminated):
                    self.study.tell(trial, state=TrialState.FAIL)
                    self.live.pop(number, None)
                    raise SweepError(f"trial {number} could not run: {exc}") from exc
                # Elsewhere (a cluster): cancelled, or its worker died. The store says how it ended.
                outcome = self._outcome_from_store(number, exc)
            self._tell(trial, outcome)
            self._notify(last=outcome, running=list(pending))

    # -- trials running elsewhere: judged from the store, stopped through their handles --------
    def _running_children(self) -> dict[int, Run]:
        runs = self.client.search_runs(
            [self.parent.info.experiment_id],
            filter_string=f"tags.`mlflow.parentRunId` = '{self.parent_run_id}'",
            max_results=1000,
        )
        found = {}
        for run in runs:
            with contextlib.suppress(KeyError, ValueError):
                found[int(run.data.tags[TAG_TRIAL])] = run
        return found

    def _history(self, run_id: str) -> list[float]:
        points = self.client.get_metric_history(run_id, self.settings.metric)
        return [m.value for m in sorted(points, key=lambda m: (m.step, m.timestamp))]

    def _judge_remote(self, pending: dict[int, tuple[TrialFuture, optuna.Trial]]) -> None:
        """Judge the new reports of trials running elsewhere; cancel those the policy stops."""
        if isinstance(self.settings.policy, NoTerminationPolicy):
            return
        try:
            children = self._running_children()
        except MlflowException:
            return  # a busy store: judge at the next poll
        for number, run in children.items():
            if number not in pending or number in self._cancelled or run.info.status != "RUNNING":
                continue
            values = self._history(run.info.run_id)
            if len(values) <= len(self.live.get(number, [])):
                continue
            reason = self.judge(number, values)
            if reason is not None and hasattr(pending[number][0], "cancel"):
                pending[number][0].cancel(reason)
                self._cancelled.add(number)

    def _outcome_from_store(self, number: int, exc: BaseException) -> TrialOutcome:
        run = self._running_children().get(number)
        if run is None:
            return TrialOutcome(number, None, "FAILED", [], error=f"{type(exc).__name__}: {exc}")
        status = run.info.status if run.info.status != "RUNNING" else "FAILED"
        return TrialOutcome(
            number,
            run.info.run_id,
            status,
            self._history(run.info.run_id),
            terminated_by=run.data.tags.get(TAG_TERMINATED_BY),
            error=f"{type(exc).__name__}: {exc}",
        )

    def _tell(self, trial: optuna.Trial, outcome: TrialOutcome) -> None:
        self.live.pop(outcome.number, None)
        self.histories[outcome.number] = TrialHistory(tuple(outcome.values), running=False)
        self.outcomes[outcome.number] = outcome
        for k, value in enumerate(outcome.values, 1):
            if math.isfinite(value):
                trial.report(value, k)
        value = outcome.value
        if outcome.status == "FINISHED":
            self.counts["finished"] += 1
            if value is None:
                self.study.tell(trial, state=TrialState.FAIL)
                self._fatal = SweepError(
                    f"trial {outcome.number} finished without logging a number for "
                    f"{self.settings.metric!r}: report it in the trial with "
                    f"mlflow.log_metric({self.settings.metric!r}, value)"
                )
            else:
                self.study.tell(trial, value)
        elif outcome.status == "KILLED":
            self.counts["killed"] += 1
            self.study.tell(trial, state=TrialState.PRUNED)
        else:
            self.counts["failed"] += 1
            self._first_error = self._first_error or outcome.error
            self.study.tell(trial, state=TrialState.FAIL)
        if value is not None and outcome.status in ("FINISHED", "KILLED"):
            self._offer_best(value, outcome.run_id, trial.number, outcome.status)
        self._record_progress()

    def _offer_best(self, value: float, run_id: str | None, number: int, status: str) -> None:
        # A finished trial always beats a stopped one; among equals, the better value wins.
        rank = (status == "FINISHED", value if self.settings.maximize else -value)
        if self.best is None or rank > self.best["_rank"]:
            self.best = {
                "value": value,
                "run_id": run_id,
                "number": number,
                "params": self._params_of(number),
                "_rank": rank,
            }

    def _params_of(self, number: int) -> dict[str, Any]:
        """The sampled values of trial ``number`` (from Optuna's raw values)."""
        raw = self.study.trials[number].params
        return {k: d.value(raw[k]) for k, d in self.settings.space.items() if k in raw}

    def _update_best_from_records(self) -> None:
        for r in self.records:
            if r.value is not None and r.state in ("finished", "killed"):
                self._offer_best(r.value, r.run_id, r.number, r.status)

    def _record_progress(self) -> None:
        """One write to the parent when the best changes: its value (metric) and run (tag)."""
        if self.best is None or self.best["run_id"] == self._recorded_best:
            return
        self._recorded_best = self.best["run_id"]
        metric = Metric(
            self.settings.metric,
            float(self.best["value"]),
            int(time.time() * 1000),
            self._done_count(),
        )
        tags = [RunTag(TAG_BEST_RUN, str(self.best["run_id"]))]
        self.client.log_batch(self.parent_run_id, metrics=[metric], tags=tags)

    def _notify(self, last: TrialOutcome | None = None, running: list[int] | None = None) -> None:
        if not self.observers:
            return
        progress = self.progress(last=last, running=running or [])
        for observer in self.observers:
            observer(progress)

    def progress(
        self,
        last: TrialOutcome | None = None,
        running: list[int] | None = None,
        ended: bool = False,
        end_reason: str | None = None,
    ) -> SweepProgress:
        running = running or []
        queued = 0
        if not ended:
            queued = max(0, self.settings.max_total_trials - self._done_count() - len(running))
        best = None
        if self.best is not None:
            best = {k: v for k, v in self.best.items() if not k.startswith("_")}
        return SweepProgress(
            parent_run_id=self.parent_run_id,
            run_name=self.parent.info.run_name,
            settings=self.settings,
            counts={"queued": queued, "running": len(running), **self.counts},
            best=best,
            last=last,
            running=running,
            ended=ended,
            end_reason=end_reason,
        )

    def all_failed(self) -> bool:
        return self.counts["failed"] > 0 and self.counts["failed"] == self._done_count()

    @property
    def first_error(self) -> str | None:
        return self._first_error


# -- starting, resuming and ending the parent run ------------------------------------------------


def _create_parent(
    session: Session,
    settings: SweepSettings,
    name: str | None,
    experiment: str | None,
    source: str | None,
    extra_tags: dict[str, str],
) -> Run:
    ws = session.workspace
    client = session.client()
    experiment_id = session.experiment_id(experiment)
    tags = {
        **context.owner_tags(),
        **context.source_tags(ws.root),
        **extra_tags,
        **settings.to_tags(),
    }
    try:
        run = client.create_run(experiment_id, run_name=name, tags=tags)
        if settings.fixed:
            client.log_batch(
                run.info.run_id,
                params=[
                    Param(k, v if isinstance(v, str) else repr(v))
                    for k, v in settings.fixed.items()
                ],
            )
        if source is not None:
            client.log_text(run.info.run_id, source, "cell.py")
    except MlflowException as exc:
        raise SweepError(f"Cannot start the sweep's run: {exc.message}") from None
    return client.get_run(run.info.run_id)


def _reopen_parent(session: Session, parent_run_id: str) -> Run:
    client = session.client()
    session.workspace  # noqa: B018 - opens the store, which ends runs of dead kernels first
    try:
        parent = client.get_run(parent_run_id)
    except MlflowException:
        raise SweepError(f"--resume {parent_run_id}: no such run in this workspace") from None
    if parent.data.tags.get("nbstudio.sweep") != "true":
        raise SweepError(f"--resume {parent_run_id}: run {parent.info.run_name!r} is not a sweep")
    if parent.info.status == "RUNNING":
        tags = parent.data.tags
        raise SweepError(
            f"sweep {parent.info.run_name!r} is still running (host {tags.get(context.TAG_HOST)}, "
            f"pid {tags.get(context.TAG_PID)}): stop it before resuming"
        )
    client.update_run(parent_run_id, status="RUNNING")
    for key, value in context.owner_tags().items():
        client.set_tag(parent_run_id, key, value)
    for key in (TAG_TERMINATED_BY, TAG_END_REASON):
        if key in parent.data.tags:
            client.delete_tag(parent_run_id, key)
    return client.get_run(parent_run_id)


def _end_parent(session: Session, run_id: str, status: str, reason: str | None) -> None:
    client = session.client()
    if reason:
        client.set_tag(run_id, TAG_END_REASON, reason)
    client.set_terminated(run_id, status)


def _settings_for_resume(
    parent: Run, settings: SweepSettings | None, limits: dict[str, Any]
) -> SweepSettings:
    stored = SweepSettings.from_tags(parent.data.tags)
    if settings is not None:
        differ = stored.same_definition(settings)
        if differ:
            raise SweepError(
                f"cannot resume sweep {parent.info.run_name!r} with a different "
                f"{' and '.join(differ)}; resume with the same options, or start a new sweep"
            )
    return stored.with_limits(**limits)


def run_sweep(
    objective: Callable[..., Any],
    settings: SweepSettings | None,
    *,
    name: str | None = None,
    experiment: str | None = None,
    resume: str | None = None,
    limits: dict[str, Any] | None = None,
    executor: TrialExecutor | None = None,
    source: str | None = None,
    tags: dict[str, str] | None = None,
    observers: list[Observer] | None = None,
    session: Session | None = None,
) -> str:
    """Run (or resume) a sweep to its end; returns the parent run id.

    ``settings`` defines a new sweep; with ``resume`` (a parent run id) the settings stored on
    that run are used, ``settings`` (if given) must define the same sweep, and ``limits`` may
    change max_total_trials, max_concurrent_trials, timeout and trial_timeout.

    Raises:
        SweepError: bad settings, an unknown parent run, every trial failed, or a trial that
            finished without reporting the primary metric.
    """
    import mlflow

    executor = executor or LocalExecutor()
    active = mlflow.active_run()
    if active is not None:
        raise SweepError(
            f"run {active.info.run_name!r} is active: end it (mlflow.end_run()) before a sweep, "
            "whose trials are child runs of its own parent run"
        )
    wanted = (limits or {}).get("max_concurrent_trials") or (
        settings.max_concurrent_trials if settings else 1
    )
    if isinstance(executor, LocalExecutor) and wanted > 1:
        raise SweepError(
            f"max_concurrent_trials={wanted}: trials on local compute run in the kernel, one "
            "at a time; use 1, or run the sweep on a compute cluster"
        )
    session = session or get_session()
    session.workspace  # noqa: B018 - opens the store and points MLflow at it
    if resume:
        parent = _reopen_parent(session, resume)
        try:
            settings = _settings_for_resume(parent, settings, limits or {})
            session.client().log_batch(
                resume, tags=[RunTag(k, v) for k, v in settings.limit_tags().items()]
            )
            records = read_trials(session.client(), parent, settings.metric, with_histories=True)
        except BaseException:
            _end_parent(session, resume, "KILLED", None)
            raise
        experiment_name = session.client().get_experiment(parent.info.experiment_id).name
    else:
        if settings is None:
            raise SweepError("a new sweep needs its settings")
        parent = _create_parent(session, settings, name, experiment, source, tags or {})
        records = []
        experiment_name = experiment or session.default_experiment()
    parent_id = parent.info.run_id
    try:
        with _quiet_optuna():
            controller = SweepController(
                objective,
                settings,
                parent=parent,
                experiment=experiment_name,
                records=records,
                executor=executor,
                session=session,
                source=source,
                tags=tags,
                observers=observers,
            )
    except BaseException:
        _end_parent(session, parent_id, "FAILED", "error")
        raise
    reason = None
    status = "FINISHED"
    try:
        with _quiet_optuna():
            reason = controller.run()
        if controller.all_failed():
            status, reason = "FAILED", "all-trials-failed"
            raise SweepError(
                f"every trial of sweep {parent.info.run_name!r} failed; the first: "
                f"{controller.first_error}"
            )
    except KeyboardInterrupt:
        status, reason = "KILLED", "interrupted"
        raise
    except BaseException:
        status = "FAILED"
        reason = reason or "error"
        raise
    finally:
        _end_parent(session, parent_id, status, reason)
        for observer in controller.observers:
            with contextlib.suppress(Exception):
                observer(controller.progress(ended=True, end_reason=reason))
    return parent_id
