"""TrackedRun: what every run records and how it always ends."""

from __future__ import annotations

import os
import socket
import threading

import mlflow
import pytest

from nbstudio.session import get_session
from nbstudio.tracking import RunSpec, RunTerminated, TrackedRun


def _artifact_text(run_id: str, path: str) -> str:
    return mlflow.artifacts.load_text(f"runs:/{run_id}/{path}")


def test_finished_run_records_params_metrics_source_output(workspace, capsys) -> None:
    spec = RunSpec(name="demo", params={"alpha": 0.5, "kernel": "rbf"}, source="print('hi')")
    with TrackedRun(spec) as run:
        print("hello from the run")
        for step in range(3):
            mlflow.log_metric("loss", 1 / (step + 1), step=step)
    client = get_session().client()
    stored = client.get_run(run.run_id)
    # rule: the run ends FINISHED with its params, and every metric point is in the store
    assert stored.info.status == "FINISHED"
    assert stored.data.params == {"alpha": "0.5", "kernel": "rbf"}
    assert [m.value for m in client.get_metric_history(run.run_id, "loss")] == [1, 0.5, 1 / 3]
    # rule: source, printed output and environment are artifacts; output still reached the user
    assert _artifact_text(run.run_id, "cell.py") == "print('hi')"
    assert "hello from the run" in _artifact_text(run.run_id, "outputs/log.txt")
    assert "mlflow==" in _artifact_text(run.run_id, "environment/requirements.txt")
    assert "hello from the run" in capsys.readouterr().out
    # rule: the owner process is recorded, so a dead kernel's run can be reaped later
    assert stored.data.tags["nbstudio.pid"].isdigit()


def test_exception_fails_the_run_and_propagates(workspace) -> None:
    def boom() -> None:
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"), TrackedRun(RunSpec(name="x")) as run:
        boom()
    stored = get_session().client().get_run(run.run_id)
    # rule: an exception ends the run FAILED with the traceback saved, and is re-raised
    assert stored.info.status == "FAILED"
    error = _artifact_text(run.run_id, "error.txt")
    assert "ValueError: bad input" in error
    assert "in boom" in error


@pytest.mark.parametrize(
    ("exc", "tag"),
    [(KeyboardInterrupt(), None), (RunTerminated("bandit"), "bandit")],
    ids=["interrupt", "terminated-by-policy"],
)
def test_interrupt_and_termination_kill_the_run(workspace, exc, tag) -> None:
    with pytest.raises(type(exc)), TrackedRun(RunSpec()) as run:
        raise exc
    stored = get_session().client().get_run(run.run_id)
    # rule: an interrupt or an early termination ends the run KILLED, never RUNNING
    assert stored.info.status == "KILLED"
    assert stored.data.tags.get("nbstudio.terminated_by") == tag


def test_child_runs_opened_inside_are_nested(workspace) -> None:
    with TrackedRun(RunSpec(name="parent")) as parent:
        with mlflow.start_run(nested=True, run_name="child") as child:
            mlflow.log_metric("m", 1)
        child_id = child.info.run_id
    client = get_session().client()
    # rule: mlflow.start_run(nested=True) inside a tracked run makes a child of it
    assert client.get_run(child_id).data.tags["mlflow.parentRunId"] == parent.run_id
    assert mlflow.active_run() is None


def test_runs_left_open_inside_are_ended(workspace) -> None:
    def leave_child_open() -> mlflow.ActiveRun:
        with TrackedRun(RunSpec(name="parent")):
            opened = mlflow.start_run(nested=True)
            raise RuntimeError(opened.info.run_id)

    with pytest.raises(RuntimeError) as raised:
        leave_child_open()
    child_id = str(raised.value)
    # rule: nothing stays RUNNING: a child left open ends with the parent's status
    assert get_session().client().get_run(child_id).info.status == "FAILED"
    assert mlflow.active_run() is None


def test_experiment_artifacts_live_in_the_workspace(workspace) -> None:
    with TrackedRun(RunSpec(experiment="exp-a")) as run:
        pass
    stored = get_session().client().get_run(run.run_id)
    # rule: artifacts of nbstudio-created experiments go under <workspace>/.nbstudio/artifacts
    assert stored.info.artifact_uri.startswith((workspace / ".nbstudio" / "artifacts").as_uri())


def test_lean_run_under_a_named_parent_records_only_its_own(workspace) -> None:
    client = get_session().client()
    parent = client.create_run(get_session().experiment_id(), run_name="sweep")
    spec = RunSpec(name="trial", parent_run_id=parent.info.run_id, lean=True, source="x = 1")
    with TrackedRun(spec) as quiet:
        mlflow.log_metric("m", 2.0)
    with TrackedRun(spec) as chatty:
        print("epoch 1")
    children = mlflow.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
        output_format="list",
    )
    # rule: a parent named in the spec gets the child through MLflow's own parent tag
    assert {c.info.run_id for c in children} == {quiet.run_id, chatty.run_id}
    assert client.get_run(quiet.run_id).data.metrics == {"m": 2.0}
    # rule: a lean run leaves source and environment to its parent; its output only if any
    assert client.list_artifacts(quiet.run_id) == []
    assert _artifact_text(chatty.run_id, "outputs/log.txt") == "epoch 1\n"
    assert [a.path for a in client.list_artifacts(chatty.run_id)] == ["outputs"]
    # rule: without read-back the result still says how the run ended, and nothing stays active
    assert (quiet.result.run_id, quiet.result.status) == (quiet.run_id, "FINISHED")
    assert quiet.result.metrics == {}
    assert client.get_run(parent.info.run_id).info.status == "RUNNING"
    assert mlflow.active_run() is None


def _end_then_fail() -> None:
    mlflow.end_run()
    raise ValueError("after end_run")


def test_code_that_ends_its_own_run_still_gets_the_final_status(workspace) -> None:
    with pytest.raises(ValueError, match="after end_run"), TrackedRun(RunSpec()) as run:
        _end_then_fail()
    # rule: the run's status is the block's outcome even when the code ended the run itself
    assert get_session().client().get_run(run.run_id).info.status == "FAILED"
    assert mlflow.active_run() is None


def _log_then_change_a_param() -> None:
    for step in range(3):
        mlflow.log_metric("m", step, step=step)
    mlflow.log_param("alpha", "0.9")  # -p alpha=0.5 already: the store refuses the change


def test_data_the_store_refuses_fails_the_run_loudly(workspace) -> None:
    from nbstudio.errors import RunError

    spec = RunSpec(name="conflict", params={"alpha": 0.5})
    refused = pytest.raises(RunError, match="Changing param values is not allowed")
    with refused as raised, TrackedRun(spec) as run:
        _log_then_change_a_param()
    stored = get_session().client().get_run(run.run_id)
    # rule: a refused batch (whose merged points are lost) never ends the run FINISHED in silence
    assert "ended FAILED" in str(raised.value)
    assert stored.info.status == "FAILED"
    assert "refused" in _artifact_text(run.run_id, "error.txt")
    assert run.result.status == "FAILED"
    # rule: the metrics logged around the refused param are all kept
    history = get_session().client().get_metric_history(run.run_id, "m")
    assert sorted(m.step for m in history) == [0, 1, 2]
    assert mlflow.active_run() is None


def test_a_run_created_elsewhere_is_adopted(workspace) -> None:
    client = get_session().client()
    experiment_id = get_session().experiment_id("adopted")
    made = client.create_run(
        experiment_id,
        run_name="shipped",
        tags={"nbstudio.host": "kernel-host", "nbstudio.pid": "1", "team": "nlp"},
    )
    spec = RunSpec(run_id=made.info.run_id, params={"alpha": 0.5}, source="x = 1")
    with TrackedRun(spec) as run:
        mlflow.log_metric("loss", 0.25)
    stored = client.get_run(made.info.run_id)
    # rule: the block continues the given run (no new one): name and tags kept, params and
    # metrics added, source saved, ended FINISHED
    assert run.run_id == made.info.run_id
    assert len(client.search_runs([experiment_id])) == 1
    assert (stored.info.run_name, stored.info.status) == ("shipped", "FINISHED")
    assert stored.data.tags["team"] == "nlp"
    assert stored.data.params == {"alpha": "0.5"}
    assert stored.data.metrics == {"loss": 0.25}
    assert _artifact_text(run.run_id, "cell.py") == "x = 1"
    # rule: the adopting process becomes the owner the reaper checks
    assert stored.data.tags["nbstudio.pid"] == str(os.getpid())
    assert stored.data.tags["nbstudio.host"] == socket.gethostname()
    assert run.result.run_name == "shipped"


def test_adopting_a_missing_run_is_one_clear_error(workspace) -> None:
    from nbstudio.errors import RunError

    # rule: a run that does not exist cannot be adopted: one line, no run left active
    missing = pytest.raises(RunError, match="Cannot continue run 0123abcd")
    with missing, TrackedRun(RunSpec(run_id="0123abcd" * 4)):
        pass
    assert mlflow.active_run() is None


def test_thousands_of_points_are_all_stored_in_order_when_the_run_ends(workspace) -> None:
    with TrackedRun(RunSpec(name="loop")) as run:
        for step in range(2500):
            mlflow.log_metric("loss", 1 / (step + 1), step=step)
        mlflow.log_metrics({"acc": 0.5, "f1": 0.25}, step=3)
    client = get_session().client()
    history = client.get_metric_history(run.run_id, "loss")
    # rule: every point logged in the block is in the store when the run ends, steps intact
    assert sorted(m.step for m in history) == list(range(2500))
    assert client.get_run(run.run_id).data.metrics == {"loss": 1 / 2500, "acc": 0.5, "f1": 0.25}
    assert run.result.metrics["loss"] == 1 / 2500


def test_a_bad_metric_name_fails_at_the_call_as_without_nbstudio(workspace) -> None:
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException, match="Invalid value"), TrackedRun(RunSpec()) as run:
        mlflow.log_metric("bad?name", 1.0)
    # rule: the mistake surfaces in the user's own call; the run ends FAILED
    assert get_session().client().get_run(run.run_id).info.status == "FAILED"


def test_points_reach_the_store_while_the_run_is_still_going(workspace) -> None:
    import time

    client = get_session().client()
    with TrackedRun(RunSpec(name="live")) as run:
        mlflow.log_metric("loss", 0.5, step=0)
        deadline = time.monotonic() + 30
        while not client.get_metric_history(run.run_id, "loss"):
            assert time.monotonic() < deadline, "the point never reached the store"
            time.sleep(0.1)
        waited = 30 - (deadline - time.monotonic())
    # rule: a logged point is readable by monitors within seconds, before the run ends
    assert waited < 10


def test_logging_to_another_run_or_a_child_goes_to_that_run(workspace) -> None:
    client = get_session().client()
    other = client.create_run(get_session().experiment_id(), run_name="other")
    with TrackedRun(RunSpec(name="main")) as run:
        mlflow.log_metric("m", 1.0, run_id=other.info.run_id)
        with mlflow.start_run(nested=True) as child:
            mlflow.log_metric("m", 2.0)
        mlflow.log_metric("m", 3.0)
    # rule: explicit run ids and nested child runs keep their own points
    assert client.get_run(other.info.run_id).data.metrics == {"m": 1.0}
    assert client.get_run(child.info.run_id).data.metrics == {"m": 2.0}
    assert client.get_run(run.run_id).data.metrics == {"m": 3.0}


class _InterruptedWhileLogged:
    def __repr__(self) -> str:
        raise KeyboardInterrupt


def test_a_run_stopped_while_starting_never_stays_running(workspace) -> None:
    spec = RunSpec(name="starting", params={"alpha": _InterruptedWhileLogged()})
    tracked = TrackedRun(spec)
    with pytest.raises(KeyboardInterrupt):
        tracked.__enter__()
    # rule: an interrupt after the run was created but before the block ends it KILLED
    assert tracked.run_id is not None
    assert get_session().client().get_run(tracked.run_id).info.status == "KILLED"
    assert mlflow.active_run() is None


def test_mlflow_call_forms_keep_their_meaning_inside_a_run(workspace) -> None:
    client = get_session().client()
    with TrackedRun(RunSpec(name="forms")) as run:
        mlflow.log_metric("pos", 1.0, 7)  # step given positionally, as MLflow's signature has it
        mlflow.log_metric("sync", 2.0, synchronous=True)
        # rule: synchronous=True is written at once, as without nbstudio
        assert client.get_run(run.run_id).data.metrics == {"sync": 2.0}
        mlflow.log_metrics({"a": 1, "b": 2.5}, 3)
    history = {
        m.key: m.step for k in ("pos", "a", "b") for m in client.get_metric_history(run.run_id, k)
    }
    # rule: positional steps land where MLflow would put them
    assert history == {"pos": 7, "a": 3, "b": 3}


def test_a_tracked_run_nested_in_another_leaves_the_outer_one_batching(workspace) -> None:
    from nbstudio.tracking import hook

    with TrackedRun(RunSpec(name="outer")) as outer:
        with TrackedRun(RunSpec(name="inner", nested=True)) as inner:
            mlflow.log_metric("m", 1.0)
        mlflow.log_metric("m", 2.0)
        # rule: after the inner run, the outer run's points are batched (and flushed) again
        assert hook._sinks.get(threading.get_ident()).run_id == outer.run_id
    client = get_session().client()
    assert client.get_run(inner.run_id).data.metrics == {"m": 1.0}
    assert client.get_run(outer.run_id).data.metrics == {"m": 2.0}
    assert threading.get_ident() not in hook._sinks


def test_runs_change_no_environment_variable_and_no_other_threads_logging(workspace) -> None:
    """Concurrent runs used to flip MLFLOW_ENABLE_ASYNC_LOGGING per run and could leave it on for
    the whole process (a thread's save/restore racing another's): every later client call of the
    process was then queued, and its errors only logged."""
    client = get_session().client()
    before = dict(os.environ)
    started, release = threading.Barrier(3), threading.Event()
    run_ids: dict[str, str] = {}

    def a_run(name: str) -> None:
        with TrackedRun(RunSpec(name=name)) as tracked:
            run_ids[name] = tracked.run_id
            mlflow.set_tag("inside", name)
            mlflow.log_metric("m", 1.0)
            started.wait(10)
            release.wait(10)

    threads = [threading.Thread(target=a_run, args=(f"t{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    started.wait(10)
    # rule: while runs are active in other threads, this thread's writes are synchronous: a
    # refused tag raises here (a queued one would only be logged)
    with mlflow.start_run(run_name="outside") as run:
        with pytest.raises(mlflow.exceptions.MlflowException):
            client.set_tag(run.info.run_id, "bad\x00key", "1")
        mlflow.set_tag("direct", "1")
        assert client.get_run(run.info.run_id).data.tags["direct"] == "1"
    release.set()
    for thread in threads:
        thread.join()
    # rule: no environment variable changed (one buffering default may be set at install)
    buffering = "MLFLOW_ASYNC_LOGGING_BUFFERING_SECONDS"
    after = {k: v for k, v in os.environ.items() if k != buffering}
    assert after == {k: v for k, v in before.items() if k != buffering}
    assert "MLFLOW_ENABLE_ASYNC_LOGGING" not in os.environ
    # rule: one hook, installed once: runs neither replace nor remove it
    from nbstudio.tracking import hook

    assert mlflow.log_metric is hook._WRAPPERS["log_metric"]
    assert mlflow.set_tag is hook._WRAPPERS["set_tag"]
    tags = {name: client.get_run(run_id).data.tags["inside"] for name, run_id in run_ids.items()}
    assert tags == {"t0": "t0", "t1": "t1"}


def test_params_and_tags_inside_a_run_are_queued_and_all_written(workspace) -> None:
    client = get_session().client()
    with TrackedRun(RunSpec(name="queued")) as run:
        for i in range(50):
            mlflow.log_param(f"p{i}", i)
            mlflow.set_tag(f"t{i}", i)
        mlflow.log_params({"many": 1, "more": 2})
        mlflow.set_tags({"x": "y"})
    data = client.get_run(run.run_id).data
    # rule: everything logged inside the run is in the store when the run has ended
    assert len([k for k in data.params if k.startswith("p")]) == 50
    assert data.params["many"] == "1"
    assert data.tags["x"] == "y"
    assert data.tags["t49"] == "49"


def test_refused_data_is_heard_after_flaml_quietened_mlflow(workspace) -> None:
    import logging

    import flaml.fabric.mlflow  # noqa: F401 - sets the "mlflow.utils" logger to CRITICAL

    from nbstudio.errors import RunError

    assert logging.getLogger("mlflow.utils").level == logging.CRITICAL
    with (
        pytest.raises(RunError, match="Changing param values is not allowed"),
        TrackedRun(RunSpec(name="after-flaml", params={"alpha": 0.5})),
    ):
        # rule: a refused batch fails the run even when FLAML has silenced MLflow's loggers
        _log_then_change_a_param()
