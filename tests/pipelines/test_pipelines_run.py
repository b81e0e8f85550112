"""Running pipelines on a real MLflow store: the runs it writes, reuse, failure, retries, resume.

Components live in this module; bodies append to ``CALLS`` so a test can tell which ran.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from mlflow.utils.file_utils import local_file_uri_to_path

import nbstudio
from nbstudio.pipelines import Outputs, recording
from nbstudio.pipelines.errors import PipelineError
from nbstudio.tracking import capture

CALLS: list[str] = []
FLAKY = {"failures_left": 0}
_lock = threading.Lock()


def _called(name: str) -> None:
    with _lock:
        CALLS.append(name)


@nbstudio.component
def load(n: int = 6) -> pd.DataFrame:
    _called("load")
    return pd.DataFrame({"a": range(n), "b": [2 * i for i in range(n)]})


@nbstudio.component
def split(df: pd.DataFrame) -> Outputs["train", "test"]:  # noqa: F821, UP037 - names, not types
    _called("split")
    return df.iloc[:4], df.iloc[4:]


@nbstudio.component
def fit(train: pd.DataFrame, C: float = 1.0) -> dict:
    _called("fit")
    return {"w": float(train["b"].sum()) * C}


@nbstudio.component
def forest(train: pd.DataFrame) -> object:
    _called("forest")
    return {("tuple", "key"): len(train)}  # not JSON: pickled


@nbstudio.component
def score(model, test: pd.DataFrame) -> float:
    _called("score")
    return float(len(test)) + (model["w"] if isinstance(model, dict) and "w" in model else 1.0)


@nbstudio.pipeline
def demo(n=6, C=1.0):
    train, test = split(load(n))
    return {"lr": score(fit(train, C=C), test), "rf": score(forest(train), test)}


@pytest.fixture(autouse=True)
def _fresh():
    CALLS.clear()
    FLAKY["failures_left"] = 0


def _children(run_id: str) -> dict[str, list]:
    found: dict[str, list] = {}
    for run in recording.step_runs(nbstudio.get_session(), run_id):
        found.setdefault(run.data.tags[recording.TAG_STEP], []).append(run)
    return found


def test_a_component_outside_a_pipeline_is_a_plain_function():
    df = load(3)
    assert list(df["b"]) == [0, 2, 4]
    train, test = split(df)
    assert len(train) == 3
    assert len(test) == 0


def test_run_records_parent_and_steps_then_rerun_reuses_everything(workspace: Path):
    first = demo.run(max_concurrent=2)
    assert first.status == "FINISHED", first.error
    assert first.outputs == {"lr": 2.0 + 12.0, "rf": 2.0 + 1.0}
    assert sorted(CALLS) == sorted(["load", "split", "fit", "forest", "score", "score"])
    client = nbstudio.get_session().client()
    parent = client.get_run(first.run_id)
    assert parent.data.tags[recording.TAG_PIPELINE] == "demo"
    assert parent.data.params == {"n": "6", "C": "1.0"}
    root = Path(local_file_uri_to_path(parent.info.artifact_uri))
    graph = (root / "graph.json").read_text()
    assert '"split"' in graph
    assert (root / "pipeline.py").exists()
    steps = _children(first.run_id)
    assert set(steps) == {"load", "split", "fit", "forest", "score", "score_2"}
    split_run = steps["split"][0]
    assert split_run.data.tags[recording.TAG_UPSTREAM] == "load"
    assert split_run.data.tags[recording.TAG_ATTEMPT] == "1"
    artifacts = Path(local_file_uri_to_path(split_run.info.artifact_uri))
    assert (artifacts / "outputs" / "train.parquet").exists()
    assert (artifacts / "cache_key.json").exists()
    assert (artifacts / "environment" / "requirements.txt").exists()
    fit_dir = Path(local_file_uri_to_path(steps["fit"][0].info.artifact_uri))
    assert (fit_dir / "outputs" / "output.json").exists()
    forest_dir = Path(local_file_uri_to_path(steps["forest"][0].info.artifact_uri))
    assert (forest_dir / "outputs" / "output.pkl").exists()

    CALLS.clear()
    second = demo.run(max_concurrent=2)
    # rule: nothing changed -> every step reused, no body executed, same outputs
    assert CALLS == []
    assert {s.state for s in second.steps.values()} == {"reused"}
    assert second.outputs == first.outputs
    again = _children(second.run_id)
    assert again["fit"][0].data.tags[recording.TAG_REUSED_FROM] == steps["fit"][0].info.run_id


def test_changing_a_param_reruns_only_its_branch(workspace: Path):
    demo.run()
    CALLS.clear()
    changed = demo.run(C=0.5)
    assert sorted(CALLS) == ["fit", "score"]
    assert changed.steps["score"].state == "finished"
    assert changed.steps["score_2"].state == "reused"
    assert changed.outputs["lr"] == 2.0 + 6.0


def test_a_deleted_artifact_is_a_miss(workspace: Path):
    first = demo.run()
    fit_run = _children(first.run_id)["fit"][0]
    shutil.rmtree(Path(local_file_uri_to_path(fit_run.info.artifact_uri)) / "outputs")
    CALLS.clear()
    second = demo.run()
    assert second.steps["fit"].state == "finished"
    assert "fit" in CALLS
    assert second.steps["forest"].state == "reused"


def test_no_cache_runs_every_step(workspace: Path):
    demo.run()
    CALLS.clear()
    demo.run(cache=False)
    assert len(CALLS) == 6


def test_rerun_runs_the_step_and_its_downstream(workspace: Path):
    demo.run()
    CALLS.clear()
    again = demo.run(rerun="fit")
    assert sorted(CALLS) == ["fit", "score"]
    assert again.steps["load"].state == "reused"
    with pytest.raises(PipelineError, match="no step 'nope'"):
        demo.run(rerun="nope")


@nbstudio.component(retries=1)
def flaky(df: pd.DataFrame) -> int:
    _called("flaky")
    if FLAKY["failures_left"] > 0:
        FLAKY["failures_left"] -= 1
        raise RuntimeError("the share was not mounted yet")
    return len(df)


@nbstudio.component(cache=False)
def stamp(df: pd.DataFrame) -> float:
    _called("stamp")
    return time.time()


@nbstudio.component
def double(x: int) -> int:
    _called("double")
    return 2 * x


@nbstudio.pipeline
def fragile(n=5):
    df = load(n)
    return {"stamp": stamp(df), "count": double(flaky(df))}


def test_retries_are_attempts_of_their_own(workspace: Path):
    FLAKY["failures_left"] = 1
    result = fragile.run()
    assert result.status == "FINISHED", result.error
    attempts = _children(result.run_id)["flaky"]
    assert [r.data.tags[recording.TAG_ATTEMPT] for r in attempts] == ["1", "2"]
    assert [r.info.status for r in attempts] == ["FAILED", "FINISHED"]


def test_a_failed_step_fails_the_pipeline_naming_it_then_resume_reuses_the_rest(
    workspace: Path,
):
    FLAKY["failures_left"] = 2  # both attempts fail
    failed = fragile.run()
    assert failed.status == "FAILED"
    assert failed.failed_step == "flaky"
    assert "the share was not mounted yet" in failed.error
    assert failed.steps["double"].state == "skipped"
    client = nbstudio.get_session().client()
    parent = client.get_run(failed.run_id)
    assert parent.info.status == "FAILED"
    assert parent.data.tags[recording.TAG_FAILED_STEP] == "flaky"

    CALLS.clear()
    resumed = fragile.run(resume=failed.run_id)
    assert resumed.status == "FINISHED", resumed.error
    # rule: resume reuses finished steps, even uncacheable ones (stamp has cache=False)
    assert sorted(CALLS) == ["double", "flaky"]
    assert resumed.steps["stamp"].state == "reused"
    assert resumed.outputs["stamp"] == failed.steps["stamp"].outputs["output"].load()


@nbstudio.component
def slow(seconds: float, tag: str) -> float:
    start = time.monotonic()
    time.sleep(seconds)
    return start


@nbstudio.component
def boom(x: float) -> float:
    raise ValueError("boom")


@nbstudio.pipeline
def branches(seconds=0.6):
    a = slow(seconds, "a")
    b = slow(seconds, "b")
    return {"bad": boom(a), "b": b}


def test_independent_branches_run_at_once_up_to_max_concurrent(workspace: Path):
    started = time.monotonic()
    result = branches.run(max_concurrent=2, cache=False)
    wall = time.monotonic() - started
    a = result.steps["slow"].outputs["output"].load()
    b = result.steps["slow_2"].outputs["output"].load()
    assert abs(a - b) < 0.4  # both started before either could finish
    assert result.failed_step == "boom"
    assert wall < 30


def test_continue_on_failure_lets_other_branches_finish(workspace: Path):
    @nbstudio.pipeline
    def fan(seconds=0.05):
        bad = boom(slow(seconds, "first"))
        return {"bad": bad, "late": score({"w": 1.0}, load(2))}

    stopped = fan.run(max_concurrent=1, cache=False)
    assert stopped.status == "FAILED"
    # one at a time: slow, load, then boom fails and score is never started
    assert stopped.steps["score"].state == "not-started"
    carried_on = fan.run(max_concurrent=1, cache=False, continue_on_failure=True)
    assert carried_on.status == "FAILED"
    assert carried_on.failed_step == "boom"
    assert carried_on.steps["score"].state == "finished"


BOTH_PRINTING = threading.Barrier(2, timeout=20)


@nbstudio.component(cache=False)
def chatty(who: str) -> str:
    print(f"{who}: before")
    BOTH_PRINTING.wait()  # the other step is printing now too
    for i in range(50):
        print(f"{who}: line {i}")
        time.sleep(0.001)
    BOTH_PRINTING.wait()
    print(f"{who}: after", file=sys.stderr)
    return who


def _log_of(run) -> str:
    root = Path(local_file_uri_to_path(run.info.artifact_uri))
    return (root / "outputs" / "log.txt").read_text()


def test_two_steps_printing_at_once_each_record_their_own_lines(workspace: Path):
    @nbstudio.pipeline
    def talk():
        return {"a": chatty("alpha"), "b": chatty("beta")}

    BOTH_PRINTING.reset()
    result = talk.run(max_concurrent=2)
    assert result.status == "FINISHED", result.error
    steps = _children(result.run_id)
    for step, who, other in (("chatty", "alpha", "beta"), ("chatty_2", "beta", "alpha")):
        log = _log_of(steps[step][0])
        expected = [f"{who}: before", *(f"{who}: line {i}" for i in range(50)), f"{who}: after"]
        assert log.splitlines() == expected
        assert other not in log
    assert not isinstance(sys.stdout, capture._Router)  # put back once no run captures


@pytest.mark.parametrize("reader", ["sql", "client"])
def test_the_live_monitor_marks_reused_steps(workspace: Path, reader: str):
    from nbstudio.jupyter.widgets import static
    from nbstudio.tracking import readers
    from nbstudio.tracking.changes import changes_since
    from nbstudio.tracking.clientreader import ClientReader

    session = nbstudio.get_session()
    if reader == "client":
        readers.use(session, ClientReader(session.client()))
    first = demo.run()
    changed = demo.run(C=0.5)  # fit and its score run again, the rest is reused
    children = changes_since(changed.run_id).children
    marks = {child.name: child.reused_from for child in children}
    origin = {name: state.run_id for name, state in first.steps.items()}
    assert marks == {
        "load": origin["load"],
        "split": origin["split"],
        "forest": origin["forest"],
        "score_2": origin["score_2"],
        "fit": None,
        "score": None,
    }
    table = static.children_table(children)
    assert table.count("♻ reused") == 4
    assert f'data-reused-from="{origin["forest"]}"' in table
    assert "6 (6 finished, 4 reused)" in table
