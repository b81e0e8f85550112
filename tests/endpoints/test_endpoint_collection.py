"""An online endpoint's data collector and drift against what it sampled: a real endpoint process
with real workers, a real MLflow store and data assets, no mocks.

One workspace and one endpoint (``coll``) serve the module (each deployment is a process): blue
collects every input (rate 1), half collects at 0.5 and off collects nothing; all serve ``reg``,
a regression trained on data asset ``feat@1`` (so its training data is found through lineage).
The collector writes every 0.2 s here (``NBSTUDIO_COLLECT_FLUSH_SECONDS``). Tests run in order.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers.workspace import module_workspace

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

FEATURES = ["a", "b", "c"]


def _frame(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame({f: rng.normal(0.0, 1.0, n) for f in FEATURES})


def _rows(folder: Path) -> int:
    return sum(len(pd.read_parquet(f)) for f in folder.glob("*/*.parquet"))


def _settled_rows(folder: Path, timeout: float = 15.0) -> int:
    """The rows collected once the collector has written everything (no change for 1 s)."""
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        now = _rows(folder) if folder.is_dir() else 0
        if now == last and now > 0:
            return now
        last = now
        time.sleep(1.0)
    return last


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory):
    import nbstudio
    import nbstudio.data as data
    from nbstudio.endpoints import commands
    from nbstudio.endpoints.collector import FLUSH_ENV
    from nbstudio.tracking import RunSpec, TrackedRun

    with (
        pytest.MonkeyPatch.context() as mp,
        module_workspace(tmp_path_factory.mktemp("collect") / "ws") as root,
    ):
        mp.setenv(FLUSH_ENV, "0.2")  # inherited by the endpoint process and its workers
        rng = np.random.default_rng(3)
        train = _frame(rng, 3000)
        train["y"] = train["a"] + 2 * train["b"] + rng.normal(0, 0.1, len(train))
        train.to_csv(root / "train.csv", index=False)
        data.create("feat", root / "train.csv")
        from sklearn.linear_model import LinearRegression

        with TrackedRun(RunSpec(name="train", experiment="collect")):
            frame = data.get("feat@1").to_pandas()
            model = LinearRegression().fit(frame[FEATURES], frame["y"])
            nbstudio.register_model(
                model, "reg", aliases=["champion"], input_example=frame[FEATURES].head(3)
            )
        commands.create("coll", collect_inputs=1.0)
        commands.deploy("coll", "blue", "reg@champion")
        commands.deploy("coll", "half", "reg@champion", collect_inputs="0.5")
        commands.deploy("coll", "off", "reg@champion", collect_inputs=0)
        try:
            yield {"root": root, "rng": rng, "records": commands.records()}
        finally:
            for name in commands.records().names():
                commands.delete(name)


def test_sampled_inputs_show_the_drift_of_the_shifted_feature(env):
    from nbstudio.drift import drift
    from nbstudio.endpoints import invoke

    # 3000 rows: Jensen-Shannon on a few hundred rows of undrifted data nears its 0.1 threshold
    shifted = _frame(env["rng"], 3000)
    shifted["a"] += 1.0  # one standard deviation on a; b and c untouched
    for start in range(0, 3000, 100):
        invoke("coll", shifted.iloc[start : start + 100], deployment="blue")
    folder = env["records"].collected_dir("coll", "blue")
    # rule: at rate 1 every scored row is written, as whole Parquet files (no partial left over)
    assert _settled_rows(folder) == 3000
    files = list(folder.rglob("*"))
    assert not [f for f in files if f.name.endswith(".partial")]
    sample = pd.read_parquet(next(folder.glob("*/*.parquet")))
    assert list(sample.columns) == [*FEATURES, "nbstudio_request_time"]
    assert str(sample["nbstudio_request_time"].dt.tz) == "UTC"

    result = drift("reg@champion", current="endpoint:coll/blue")
    # rule: the reference is the model's training data; the shifted feature alone is flagged
    assert result.reference == "feat@1"
    assert result.drifted_features == ["a"]
    assert result.current.startswith("3000 sampled rows of endpoint coll/blue (")
    tags = mlflow.MlflowClient().get_run(result.run_id).data.tags
    # rule: the run says where the current data came from
    assert tags["nbstudio.drift.source"] == "endpoint"
    assert tags["nbstudio.drift.current"] == result.current
    # rule: since= keeps only recent rows; a time after them all leaves none (one-line error)
    recent = drift("reg@champion", current="endpoint:coll/blue", since="1h", log=False)
    assert recent.current.startswith("3000 sampled rows")
    from nbstudio.drift import DriftError

    with pytest.raises(DriftError, match="No inputs collected from endpoint coll/blue since"):
        drift("reg@champion", current="endpoint:coll/blue", since="2999-01-01")


def test_half_rate_samples_about_half_the_requests(env):
    from nbstudio.endpoints import invoke

    rows = _frame(env["rng"], 200)
    for i in range(200):
        invoke("coll", rows.iloc[i : i + 1], deployment="half")
    kept = _settled_rows(env["records"].collected_dir("coll", "half"))
    # rule: each request is kept with probability 0.5 (binomial: sd ~7 rows, bounds at ~6 sd)
    assert 60 <= kept <= 140


def test_rate_zero_writes_nothing_and_drift_says_how_to_collect(env):
    from nbstudio.drift import DriftError, drift
    from nbstudio.endpoints import invoke

    for _ in range(4):
        invoke("coll", _frame(env["rng"], 10), deployment="off")
    time.sleep(1.0)  # five flush intervals
    # rule: collection is off at rate 0: no folder, and a one-line error saying how to turn it on
    assert not env["records"].collected_dir("coll", "off").exists()
    with pytest.raises(DriftError) as caught:
        drift("reg@champion", current="endpoint:coll/off")
    assert "--collect-inputs" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_collection_failure_never_fails_a_request(env):
    from nbstudio.endpoints import invoke

    folder = env["records"].collected_dir("coll", "blue")
    aside = folder.with_name("model_inputs.aside")
    folder.rename(aside)
    folder.write_text("not a folder")  # every write of the collector now fails
    log = env["records"].deployment_log("coll", "blue")
    try:
        for _ in range(20):
            answer = invoke("coll", _frame(env["rng"], 5), deployment="blue")
            # rule: the request is answered as if nothing happened
            assert len(answer) == 5
        deadline = time.monotonic() + 10
        # rule: the failure is written in the deployment's log instead
        while "Data collection could not write" not in log.read_text():
            assert time.monotonic() < deadline, "the failure was not logged"
            time.sleep(0.1)
    finally:
        folder.unlink()
        aside.rename(folder)


def test_magics_set_show_and_check_collection(env):
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.run_line_magic("load_ext", "nbstudio")
    try:
        shown = ip.run_line_magic("endpoint", "show coll")
        # rule: %endpoint show lists each deployment's collection rate
        rates = shown.deployments_frame().set_index("deployment")["collect inputs"].to_dict()
        assert rates == {"blue": 1.0, "half": 0.5, "off": 0.0}
        result = ip.run_cell("%drift reg@champion --current endpoint:coll/blue --since 2h")
        # rule: %drift reads an endpoint's sampled inputs
        assert result.error_in_exec is None
        assert result.result.drifted_features == ["a"]
        for line, message in [
            ("%endpoint create other --collect-inputs 2", "sampling rate from 0 to 1"),
            ("%endpoint deploy coll blue reg@champion --collect-inputs x", "sampling rate"),
            ("%drift reg@champion --current endpoint:coll/off", "--collect-inputs"),
            ("%drift reg@champion --current endpoint:nope", "No inputs collected"),
            ("%drift reg@champion --current endpoint:coll --since yesterday", "since"),
            ("%drift reg@champion --current feat@1 --since 1h", "endpoint:NAME"),
        ]:
            outcome = ip.run_cell(line)
            # rule: every refusal is one line
            assert message in str(outcome.error_in_exec), line
            assert "\n" not in str(outcome.error_in_exec)
    finally:
        ip.reset(new_session=False)
    # rule: a refused create left no endpoint behind
    assert "other" not in env["records"].names()


def test_console_command_sets_and_shows_the_rate(env, capsys):
    import json

    from nbstudio.cli import main

    capsys.readouterr()
    assert main(["endpoint", "show", "coll", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    # rule: the REST/console view of a deployment carries its rate
    assert {d["name"]: d["collect_inputs"] for d in shown["deployments"]} == {
        "blue": 1.0,
        "half": 0.5,
        "off": 0.0,
    }
    code = main(["endpoint", "create", "other", "--collect-inputs", "-0.1"])
    # rule: a bad rate is refused in one line by the console too
    err = capsys.readouterr().err
    assert code != 0
    assert "sampling rate from 0 to 1" in err
    assert err.strip().count("\n") == 0


def test_a_graceful_stop_writes_the_buffered_rows(env, monkeypatch):
    from nbstudio.endpoints import commands, invoke
    from nbstudio.endpoints.collector import FLUSH_ENV

    monkeypatch.setenv(FLUSH_ENV, "3600")  # this endpoint's workers never flush on time
    commands.create("slow")
    commands.deploy("slow", "blue", "reg@champion", collect_inputs=1)
    invoke("slow", _frame(env["rng"], 7))
    folder = env["records"].collected_dir("slow", "blue")
    time.sleep(0.5)
    assert not folder.exists()
    commands.stop("slow")
    # rule: stopping the endpoint (SIGTERM to its workers) writes what their buffers held
    assert _rows(folder) == 7
    commands.delete("slow")


def test_deleting_the_endpoint_keeps_what_it_collected(env):
    from nbstudio.endpoints import commands

    folder = env["records"].collected_dir("coll")
    before = _rows(folder / "blue" / "model_inputs")
    message = commands.delete("coll")
    # rule: like Azure's collected blobs, the sampled inputs outlive the endpoint, and it says so
    assert str(folder) in message
    assert _rows(folder / "blue" / "model_inputs") == before > 0


@given(st.one_of(st.text(max_size=20), st.floats(), st.integers(), st.booleans(), st.none()))
def test_rates_are_numbers_from_0_to_1_or_a_one_line_error(value):
    from nbstudio.endpoints.collector import check_rate
    from nbstudio.endpoints.errors import EndpointError

    try:
        rate = check_rate(value)
    except EndpointError as exc:
        message = str(exc)
    else:
        assert 0.0 <= rate <= 1.0
        assert not isinstance(value, bool)
        return
    assert "\n" not in message
    assert "--collect-inputs" in message


def test_collector_writes_what_is_left_when_closed(tmp_path):
    from nbstudio.endpoints.collector import REQUEST_TIME, Collector

    collector = Collector(1.0, tmp_path / "in", interval=3600)  # no timed flush in this test
    collector.offer(pd.DataFrame({"x": [1.0, 2.0]}))
    collector.offer(pd.DataFrame({0: [3.0]}))  # a column named by a number is written as "0"
    collector.offer({"not": "a frame"})  # tensors are not collected, and never raise
    assert not (tmp_path / "in").exists()
    collector.close()
    # rule: a graceful stop writes the buffered rows
    (written,) = (tmp_path / "in").glob("*/*.parquet")
    assert pd.read_parquet(written)["x"].tolist()[:2] == [1.0, 2.0]
    assert pd.read_parquet(written)["0"].tolist()[2] == 3.0
    assert REQUEST_TIME in pd.read_parquet(written).columns
    again = Collector(1.0, tmp_path / "in", interval=3600)  # same pid, numbering from 1 again
    again.offer(pd.DataFrame({"x": [5.0]}))
    again.close()
    # rule: a later worker with the same pid never overwrites an earlier file
    assert len(list((tmp_path / "in").glob("*/*.parquet"))) == 2
    shutil.rmtree(tmp_path / "in")
