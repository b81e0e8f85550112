"""Run actions on a real MLflow store: rename, description, tags, delete and restore, and the
trials page of a sweep and of an AutoML job (nbstudio.tracking.run_actions, .trials)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nbstudio.errors import NotFoundError, QueryError


@pytest.fixture
def run_id(workspace):
    from nbstudio.session import get_session

    session = get_session()
    client = session.client()
    run = client.create_run(
        session.experiment_id("actions"), run_name="first-name", tags={"team": "a", "old": "x"}
    )
    client.set_terminated(run.info.run_id, "FINISHED")
    return run.info.run_id


def test_rename_describe_and_tag_as_mlflow_sees_it(run_id) -> None:
    from nbstudio.session import get_session
    from nbstudio.tracking.run_actions import edit_run

    meta = edit_run(
        run_id,
        name="  a much better name ",
        description="Baseline.\nSecond line.",
        set_tags={"team": "b", "new": "1"},
        delete_tags=["old", "never-set"],
    )
    run = get_session().client().get_run(run_id)
    # rule: the change is MLflow's own: run name, mlflow.note.content, tags
    assert run.info.run_name == "a much better name"
    assert run.data.tags["mlflow.note.content"] == "Baseline.\nSecond line."
    assert run.data.tags["team"] == "b"
    assert run.data.tags["new"] == "1"
    assert "old" not in run.data.tags
    # rule: the answer is the run's state after the change
    assert meta["run_name"] == "a much better name"
    assert meta["description"] == "Baseline.\nSecond line."
    assert meta["lifecycle_stage"] == "active"
    edit_run(run_id, description="")
    # rule: an empty description removes MLflow's note tag
    assert "mlflow.note.content" not in get_session().client().get_run(run_id).data.tags


@pytest.mark.parametrize(
    "change",
    [
        {"name": "   "},
        {"name": "x" * 251},
        {"set_tags": {"mlflow.runName": "sneaky"}},
        {"set_tags": {"nbstudio.sweep": "true"}},
        {"delete_tags": ["mlflow.parentRunId"]},
        {"set_tags": {"a": "1"}, "delete_tags": ["a"]},
        {"set_tags": {"bad\x00key": "1"}},
        {"description": "d" * 8001},
    ],
)
def test_bad_edits_are_refused_before_any_write(run_id, change) -> None:
    from nbstudio.session import get_session
    from nbstudio.tracking.run_actions import edit_run

    before = get_session().client().get_run(run_id).data.tags
    with pytest.raises(QueryError):
        edit_run(run_id, **change)
    # rule: a refused edit changes nothing
    assert get_session().client().get_run(run_id).data.tags == before


def test_delete_then_restore(run_id) -> None:
    from mlflow.entities import ViewType

    from nbstudio.session import get_session
    from nbstudio.tracking.run_actions import delete_run, deleted_runs, edit_run, restore_run

    client = get_session().client()
    experiment_id = client.get_run(run_id).info.experiment_id
    assert delete_run(run_id)["lifecycle_stage"] == "deleted"
    # rule: a deleted run leaves MLflow's active searches and is listed as deleted
    assert not client.search_runs([experiment_id], run_view_type=ViewType.ACTIVE_ONLY)
    assert [r["run_id"] for r in deleted_runs(experiment_id)["runs"]] == [run_id]
    # rule: deleting twice is harmless; a deleted run is not edited
    assert delete_run(run_id)["lifecycle_stage"] == "deleted"
    with pytest.raises(QueryError, match="restore it"):
        edit_run(run_id, name="x")
    assert restore_run(run_id)["lifecycle_stage"] == "active"
    # rule: restore brings it back where it was
    assert [r.info.run_id for r in client.search_runs([experiment_id])] == [run_id]
    assert deleted_runs(experiment_id) == {"runs": []}


def test_unknown_run_or_experiment_is_not_found(workspace) -> None:
    from nbstudio.tracking.run_actions import delete_run, deleted_runs, edit_run, run_meta
    from nbstudio.tracking.trials import run_trials

    for call in (run_meta, delete_run, run_trials, lambda r: edit_run(r, name="x")):
        with pytest.raises(NotFoundError):
            call("0" * 32)
    for experiment_id in ("987654", "not-a-number"):
        with pytest.raises(NotFoundError):
            deleted_runs(experiment_id)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    key=st.text(min_size=1, max_size=300),
    value=st.text(max_size=50),
    name=st.text(min_size=1, max_size=300),
)
def test_hostile_edits_are_a_query_error_or_applied(run_id, key, value, name) -> None:
    from nbstudio.tracking.run_actions import edit_run

    try:
        meta = edit_run(run_id, name=name, set_tags={key: value})
    except QueryError:
        return  # rule: refused with one line, never anything else
    # rule: what was accepted is what the store holds
    assert meta["run_name"] == name.strip()
    assert meta["tags"][key] == value


def test_trials_page_of_a_sweep_marks_early_stopped_trials(workspace) -> None:
    import mlflow

    import nbstudio
    from nbstudio.tracking.trials import run_trials

    count = {"n": 0}

    def trial(x):
        count["n"] += 1
        for _ in range(5):  # the first trial is good, the later ones bad: the bandit stops them
            mlflow.log_metric("acc", 1.0 if count["n"] == 1 else 0.1)

    sweep = nbstudio.sweep(
        trial,
        {"x": "uniform(0, 1)"},
        goal="maximize:acc",
        policy="bandit(slack_factor=0.1, delay_evaluation=2)",
        max_total_trials=3,
        seed=0,
    )
    page = run_trials(sweep.run_id)
    # rule: one row per trial in order, with state, value and the searched space
    assert (page["kind"], page["goal"], page["primary_metric"]) == ("sweep", "maximize", "acc")
    assert page["space"] == ["x"]
    assert [(t["number"], t["state"]) for t in page["trials"]] == [
        (0, "finished"),
        (1, "killed"),
        (2, "killed"),
    ]
    assert [t["value"] for t in page["trials"]] == [1.0, 0.1, 0.1]
    # rule: a trial stopped by the policy says by which, and carries its params
    assert [t["terminated_by"] for t in page["trials"]] == [None, "bandit", "bandit"]
    assert all(set(t["params"]) == {"x"} for t in page["trials"])
    plain = mlflow.MlflowClient().create_run(page["experiment_id"]).info.run_id
    with pytest.raises(NotFoundError, match="neither a sweep nor an AutoML job"):
        run_trials(plain)


def test_trials_page_of_an_automl_job(workspace) -> None:
    from sklearn.datasets import load_breast_cancer

    import nbstudio
    from nbstudio.tracking.trials import run_trials

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    result = nbstudio.automl(
        X,
        y,
        task="classification",
        primary_metric="accuracy",
        max_trials=6,
        timeout=None,
        estimators=["lgbm", "rf"],
        seed=0,
    )
    page = run_trials(result.parent_run_id)
    board = result.leaderboard
    # rule: the same trials as the leaderboard, each with its estimator and score
    assert (page["kind"], page["goal"], page["primary_metric"]) == (
        "automl",
        "maximize",
        "accuracy",
    )
    assert sorted(t["number"] for t in page["trials"]) == sorted(board["trial"])
    assert {t["estimator"] for t in page["trials"]} <= {"lgbm", "rf"}
    by_run = {t["run_id"]: t for t in page["trials"]}
    for row in board.itertuples():
        assert by_run[row.run_id]["value"] == pytest.approx(row.accuracy)
        # rule: params are the learner's config, the estimator apart
        assert "estimator" not in by_run[row.run_id]["params"]
