"""The sweep controller on a real MLflow store: runs, tags, stops, failures, limits, resume."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import mlflow
import pytest

import nbstudio
from nbstudio.session import get_session
from nbstudio.sweep import SweepError, get_sweep
from nbstudio.sweep.api import list_sweeps
from nbstudio.sweep.controller import SweepProgress

FAST_SPACE = {"x": "uniform(0, 1)", "k": "choice('a', 'b')"}


def children(parent_run_id: str) -> list:
    session = get_session()
    parent = session.client().get_run(parent_run_id)
    runs = session.client().search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.`mlflow.parentRunId` = '{parent_run_id}'",
    )
    return sorted(runs, key=lambda r: int(r.data.tags["nbstudio.trial"]))


def test_sweep_records_parent_and_child_runs(workspace):
    seen = []

    def train(x, k, tol):
        seen.append((x, k, tol))
        for step in range(3):
            mlflow.log_metric("score", x * (step + 1), step=step)

    sweep = nbstudio.sweep(
        train,
        {**FAST_SPACE, "tol": 0.01},
        goal="maximize:score",
        sampling="random",
        max_total_trials=4,
        seed=3,
        name="tune",
    )
    client = get_session().client()
    parent = client.get_run(sweep.run_id)
    tags = parent.data.tags
    # Rule: the parent run is tagged as a sweep with its whole definition.
    assert parent.info.status == "FINISHED"
    assert tags["nbstudio.sweep"] == "true"
    assert json.loads(tags["nbstudio.sweep.space"]) == {
        "x": "uniform(0, 1)",
        "k": "choice('a', 'b')",
    }
    assert tags["nbstudio.sweep.sampling"] == "random"
    assert tags["nbstudio.sweep.goal"] == "maximize"
    assert tags["nbstudio.primary_metric"] == "score"
    assert tags["nbstudio.sweep.max_total_trials"] == "4"
    assert tags["nbstudio.sweep.policy"] == "none"
    assert tags["nbstudio.sweep.seed"] == "3"
    # Rule: fixed values are params of the parent and of every trial.
    assert parent.data.params == {"tol": "0.01"}
    runs = children(sweep.run_id)
    # Rule: one child run per trial, with the sampled values as params.
    assert len(runs) == 4 == len(seen)
    for run, (x, k, _) in zip(runs, seen, strict=True):
        assert run.info.status == "FINISHED"
        assert run.data.params == {"x": repr(x), "k": k, "tol": "0.01"}
        assert run.info.run_name.startswith("tune_")
    # Rule: the best trial is the best finished value; the parent's metric is the best so far.
    best_x = max(x for x, _, _ in seen)
    assert sweep.best.value == pytest.approx(best_x * 3)
    assert sweep.best.params["x"] == pytest.approx(best_x)
    assert parent.data.metrics["score"] == pytest.approx(best_x * 3)
    assert tags["nbstudio.sweep.best_run_id"] == sweep.best.run_id
    # Rule: .trials is a DataFrame indexed by trial number with params as columns.
    table = sweep.trials
    assert list(table.index) == [0, 1, 2, 3]
    assert {"state", "value", "run_id", "x", "k"} <= set(table.columns)
    assert (table["state"] == "finished").all()


def test_policy_kills_a_trial_at_its_report(workspace):
    calls: list[tuple[int, int]] = []

    def train(x):
        number = len({c[0] for c in calls})
        quality = 1.0 if number == 0 else 0.1
        for step in range(5):
            calls.append((number, step))
            mlflow.log_metric("acc", quality)  # no step: each call is one report

    sweep = nbstudio.sweep(
        train,
        {"x": "uniform(0, 1)"},
        goal="maximize:acc",
        policy="bandit(slack_factor=0.1, delay_evaluation=2)",
        max_total_trials=3,
        seed=0,
    )
    runs = children(sweep.run_id)
    # Rule: a terminated trial ends KILLED with nbstudio.terminated_by=<policy>.
    assert [r.info.status for r in runs] == ["FINISHED", "KILLED", "KILLED"]
    assert [r.data.tags.get("nbstudio.terminated_by") for r in runs[1:]] == ["bandit"] * 2
    # Rule: it stops at the first evaluation point (report 2): no code after that report runs.
    assert [s for n, s in calls if n == 1] == [0, 1]
    assert [s for n, s in calls if n == 2] == [0, 1]
    assert sweep.counts == {"queued": 0, "running": 0, "finished": 1, "killed": 2, "failed": 0}


@pytest.mark.parametrize(
    ("policy", "reports_of_bad_trial"),
    [
        pytest.param("median_stopping(delay_evaluation=3)", 3, id="median"),
        pytest.param("truncation_selection(50, evaluation_interval=2)", 2, id="truncation"),
    ],
)
def test_other_policies_stop_a_bad_trial(workspace, policy, reports_of_bad_trial):
    counts: dict[int, int] = {}

    def train(x):
        number = len(counts)
        counts[number] = 0
        for _ in range(6):
            counts[number] += 1
            mlflow.log_metrics({"loss": 0.1 if number == 0 else 5.0, "other": 1.0})

    sweep = nbstudio.sweep(
        train, {"x": "uniform(0, 1)"}, goal="minimize:loss", policy=policy, max_total_trials=2
    )
    runs = children(sweep.run_id)
    # Rule: policies judge reports made through mlflow.log_metrics too.
    assert runs[1].info.status == "KILLED"
    assert runs[1].data.tags["nbstudio.terminated_by"] == policy.split("(")[0]
    assert counts == {0: 6, 1: reports_of_bad_trial}


def test_failing_trials_are_failed_and_the_sweep_goes_on(workspace):
    def train(k, x):
        if k == "bad":
            raise ValueError("bad kernel")
        mlflow.log_metric("acc", x)

    sweep = nbstudio.sweep(
        train,
        {"k": "choice('good', 'bad')", "x": "choice(0.1, 0.2, 0.3)"},
        goal="maximize:acc",
        sampling="grid",
        max_total_trials=100,
        seed=1,
    )
    runs = children(sweep.run_id)
    client = get_session().client()
    failed = [r for r in runs if r.info.status == "FAILED"]
    # Rule: grid runs every combination once (6), a failing trial is FAILED with its traceback.
    assert len(runs) == 6
    assert len(failed) == 3
    for run in failed:
        text = mlflow.artifacts.load_text(f"{run.info.artifact_uri}/error.txt")
        assert "ValueError: bad kernel" in text
    # Rule: the sweep still finishes, and the best is a finished trial.
    assert client.get_run(sweep.run_id).info.status == "FINISHED"
    assert sweep.best.value == pytest.approx(0.3)
    assert sweep.best.params == {"k": "good", "x": 0.3}


def test_every_trial_failing_fails_the_sweep(workspace):
    def train(x):
        raise RuntimeError("broken body")

    with pytest.raises(SweepError, match=r"every trial .* failed.*RuntimeError: broken body"):
        nbstudio.sweep(train, {"x": "uniform(0, 1)"}, goal="maximize:acc", max_total_trials=2)
    (sweep,) = list_sweeps()
    # Rule: the parent is FAILED, and no run is left RUNNING.
    assert sweep["status"] == "FAILED"
    assert sweep["counts"]["failed"] == 2
    assert mlflow.search_runs(search_all_experiments=True, filter_string="status = 'RUNNING'").empty


def test_trial_without_the_metric_is_a_clear_error(workspace):
    def train(x):
        mlflow.log_metric("acuracy", x)  # misspelt

    with pytest.raises(SweepError, match=r"mlflow.log_metric\('accuracy', value\)"):
        nbstudio.sweep(train, {"x": "uniform(0, 1)"}, goal="maximize:accuracy")
    # Rule: the sweep stops after that trial instead of running 20 useless ones.
    assert list_sweeps()[0]["counts"]["finished"] == 1


def test_returned_value_is_the_metric(workspace):
    # Rule: a trial body may return its metric instead of logging it.
    sweep = nbstudio.sweep(
        lambda x: x * 2, {"x": "uniform(0, 1)"}, goal="minimize:loss", max_total_trials=3
    )
    assert sweep.trials["value"].notna().all()
    assert sweep.best.value == pytest.approx(sweep.trials["value"].min())


def test_trial_timeout_stops_a_silent_trial(workspace):
    def train(x):
        for _ in range(400):  # never reports: only the watchdog can stop it
            time.sleep(0.01)
        mlflow.log_metric("acc", x)

    sweep = nbstudio.sweep(
        train, {"x": "uniform(0, 1)"}, goal="maximize:acc", max_total_trials=1, trial_timeout=0.5
    )
    (run,) = children(sweep.run_id)
    # Rule: a trial past trial_timeout ends KILLED by trial_timeout, soon after its deadline.
    assert run.info.status == "KILLED"
    assert run.data.tags["nbstudio.terminated_by"] == "trial_timeout"
    assert (run.info.end_time - run.info.start_time) / 1000 < 2.5  # the body alone takes 4 s


def test_sweep_timeout_stops_running_trial_and_starts_no_more(workspace):
    def train(x):
        for step in range(100):
            mlflow.log_metric("acc", x, step=step)
            time.sleep(0.02)

    sweep = nbstudio.sweep(
        train, {"x": "uniform(0, 1)"}, goal="maximize:acc", max_total_trials=10, timeout=1
    )
    runs = children(sweep.run_id)
    # Rule: at the sweep's timeout the running trial is KILLED (terminated_by=timeout) and the
    # sweep ends FINISHED with end reason timeout.
    assert runs[-1].info.status == "KILLED"
    assert runs[-1].data.tags["nbstudio.terminated_by"] == "timeout"
    assert len(runs) < 10
    assert sweep.status == "FINISHED"
    assert sweep.end_reason == "timeout"


BAD_SETTINGS = [
    pytest.param({"goal": None}, "needs a goal", id="no-goal"),
    pytest.param({"goal": "maximize"}, "needs a metric", id="no-metric"),
    pytest.param({"policy": "bandit()"}, "exactly one of slack", id="bad-policy"),
    pytest.param({"sampling": "grid"}, "grid sampling needs choice", id="grid-continuous"),
    pytest.param({"max_concurrent_trials": 2}, "one at a time", id="local-concurrency"),
    pytest.param({"max_total_trials": 0}, "max_total_trials must be", id="zero-trials"),
    pytest.param({"timeout": "soon"}, "timeout 'soon'", id="bad-timeout"),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD_SETTINGS)
def test_bad_settings_are_clear_errors(kwargs, message):
    # Rule: bad settings are one clear SweepError, found before any run is made.
    arguments = {"goal": "maximize:acc", **kwargs}
    with pytest.raises(SweepError, match=message):
        nbstudio.sweep(lambda x: x, {"x": "uniform(0, 1)"}, **arguments)


def test_refused_sweeps_leave_no_run(workspace):
    get_session().workspace  # noqa: B018 - point mlflow at this test's store
    for case in [*BAD_SETTINGS, pytest.param({"resume": "0" * 32}, "no such run")]:
        kwargs, message = case.values
        arguments = {"goal": "maximize:acc", **kwargs}
        with pytest.raises(SweepError, match=message):
            nbstudio.sweep(lambda x: x, {"x": "uniform(0, 1)"}, **arguments)
    # Rule: a sweep refused for its settings leaves no run behind.
    assert mlflow.search_runs(search_all_experiments=True).empty


def test_a_sweep_inside_an_active_run_is_refused(workspace):
    get_session().workspace  # noqa: B018
    # Rule: trials are children of the sweep's own parent, so an active run is an error.
    with mlflow.start_run(), pytest.raises(SweepError, match="is active"):
        nbstudio.sweep(lambda x: x, {"x": "uniform(0, 1)"}, goal="maximize:acc")


def test_interrupt_kills_parent_and_trial_then_resume_finishes_without_rerunning(workspace):
    ran: list[tuple[float, ...]] = []
    interrupt_at = {"n": 3}

    def train(x, y):
        ran.append((x, y))
        if len(ran) == interrupt_at["n"] + 1:
            raise KeyboardInterrupt
        mlflow.log_metric("acc", x + y)

    space = {"x": "uniform(0, 1)", "y": "uniform(0, 1)"}
    options = {"goal": "maximize:acc", "sampling": "sobol", "max_total_trials": 6, "seed": 5}
    with pytest.raises(KeyboardInterrupt):
        nbstudio.sweep(train, space, name="tune", **options)
    (listed,) = list_sweeps()
    parent_id = listed["run_id"]
    # Rule: an interrupt ends the parent and the running trial KILLED, never RUNNING.
    assert listed["status"] == "KILLED"
    assert [r.info.status for r in children(parent_id)] == ["FINISHED"] * 3 + ["KILLED"]
    first_run_ids = [r.info.run_id for r in children(parent_id)[:3]]

    interrupt_at["n"] = 10**6
    ran.clear()
    sweep = nbstudio.sweep(train, space, resume=parent_id, **options)
    runs = children(parent_id)
    # Rule: resume never reruns a finished trial; it reruns the interrupted one with its params.
    assert sweep.run_id == parent_id
    assert [r.info.run_id for r in runs[:3]] == first_run_ids
    assert len(ran) == 3
    assert ran[0] == (
        float(runs[3].data.params["x"]),
        float(runs[3].data.params["y"]),
    )
    assert runs[4].data.tags["nbstudio.trial.rerun_of"] == "3"
    assert [r.info.status for r in runs].count("FINISHED") == 6
    assert sweep.status == "FINISHED"

    # Rule: the resumed sobol sweep samples exactly the points of an uninterrupted one.
    ran.clear()
    interrupt_at["n"] = 10**6
    uninterrupted = nbstudio.sweep(train, space, **options)
    assert sorted(uninterrupted.trials[["x", "y"]].itertuples(index=False)) == sorted(
        sweep.trials[sweep.trials["state"] == "finished"][["x", "y"]].itertuples(index=False)
    )


def test_resume_can_extend_a_finished_sweep_with_bayesian_history(workspace):
    def train(x):
        mlflow.log_metric("loss", (x - 0.3) ** 2)

    options = {"goal": "minimize:loss", "sampling": "bayesian", "seed": 1}
    first = nbstudio.sweep(train, {"x": "uniform(0, 1)"}, max_total_trials=3, **options)
    # Rule: resuming with a higher max_total_trials runs only the missing trials.
    again = nbstudio.sweep(
        train, {"x": "uniform(0, 1)"}, resume=first.run_id, max_total_trials=5, **options
    )
    assert len(again.trials) == 5
    assert again.settings.max_total_trials == 5
    # Rule: resuming with a different search space is refused.
    with pytest.raises(SweepError, match="different search space"):
        nbstudio.sweep(train, {"x": "uniform(0, 2)"}, resume=first.run_id, **options)
    assert get_sweep(first.run_id).status == "KILLED"


def test_controller_polls_executor_futures_up_to_max_concurrent(workspace):
    # An executor whose futures complete in another thread, as a cluster's do; its one worker
    # runs the trials in turn while the controller keeps two of them submitted.
    executor = ThreadPoolExecutor(max_workers=1)
    executor.max_concurrency = 2
    progress: list[SweepProgress] = []
    try:
        sweep = nbstudio.sweep(
            lambda x: time.sleep(0.5) or x,  # long enough for the two to overlap under load
            {"x": "uniform(0, 1)"},
            goal="maximize:acc",
            sampling="bayesian",
            max_total_trials=4,
            max_concurrent_trials=2,
            executor=executor,
            observers=[progress.append],
        )
    finally:
        executor.shutdown()
    # Rule: the controller keeps up to max_concurrent_trials trials in flight on an executor.
    assert max(p.counts["running"] for p in progress) == 2
    assert (sweep.trials["state"] == "finished").all()
    assert len(sweep.trials) == 4
    # Rule: observers see progress after every change, ending with the final state.
    assert progress[-1].ended
    assert progress[-1].counts["finished"] == 4


def test_list_sweeps_and_plot(workspace):
    def train(x, k):
        mlflow.log_metric("acc", x)

    nbstudio.sweep(train, FAST_SPACE, goal="maximize:acc", max_total_trials=3, name="one")
    (item,) = list_sweeps()
    # Rule: list_sweeps returns the sweep dicts of the REST API contract.
    assert set(item) == {
        "run_id",
        "run_name",
        "experiment_id",
        "status",
        "goal",
        "primary_metric",
        "counts",
        "max_total_trials",
        "best",
        "start_time",
    }
    assert item["run_name"] == "one"
    assert item["counts"] == {"queued": 0, "running": 0, "finished": 3, "killed": 0, "failed": 0}
    assert set(item["best"]) == {"value", "run_id", "params"}
    json.dumps(item)  # JSON-ready
    sweep = get_sweep(item["run_id"])
    figure = sweep.plot()
    # Rule: the plot has the trials, the best-so-far line and parallel coordinates.
    kinds = [trace.type for trace in figure.data]
    assert "parcoords" in kinds
    assert "best so far" in [trace.name for trace in figure.data]
    layout = figure.layout
    (coords,) = [trace for trace in figure.data if trace.type == "parcoords"]
    colorbar_top = coords.line.colorbar.y + coords.line.colorbar.len / 2
    # Rule: the legend sits above the charts, clear of the colour bar beside the lower chart,
    # and no subplot title lies where the parallel coordinates print their labels.
    assert layout.legend.orientation == "h"
    assert layout.legend.y >= 1
    assert colorbar_top <= coords.domain.y[1]
    assert not layout.annotations
    # Rule: a Sweep reads as one line of text and an HTML summary.
    assert "best" in repr(sweep)
    assert "nbstudio-sweep-summary" in sweep._repr_html_()


def test_trial_value_is_its_last_report(workspace):
    def train(x):
        for value in (0.9, 0.5, 0.1):  # within a millisecond, without steps
            mlflow.log_metric("acc", value)

    sweep = nbstudio.sweep(train, {"x": "uniform(0, 1)"}, goal="maximize:acc", max_total_trials=1)
    # Rule: a trial's value is its last report, not MLflow's largest value of the same instant.
    assert sweep.trials["value"].tolist() == [0.1]
    assert sweep.best.value == 0.1
