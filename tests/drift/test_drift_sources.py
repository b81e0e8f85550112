"""Drift against a batch job's input, and the parsing of where data comes from: a real MLflow store,
real data assets, a real batch job scored in the kernel (compute ``local``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nbstudio
import nbstudio.data as data
from nbstudio.drift import DriftError, drift
from nbstudio.drift.sources import parse_since, resolve
from nbstudio.tracking import RunSpec, TrackedRun

FEATURES = ["alcohol", "hue"]


@pytest.fixture
def scored(workspace: Path):
    """Model ``wine`` trained on ``wine@1``; a batch job scored ``wine-new@1`` (alcohol +1 sd)."""
    from sklearn.linear_model import LinearRegression

    from nbstudio.batch import score

    rng = np.random.default_rng(5)
    train = pd.DataFrame({"alcohol": rng.normal(13, 0.8, 3000), "hue": rng.normal(1, 0.2, 3000)})
    train.assign(y=rng.normal(size=3000)).to_csv(workspace / "train.csv", index=False)
    new = pd.DataFrame({"alcohol": rng.normal(13.8, 0.8, 3000), "hue": rng.normal(1, 0.2, 3000)})
    (workspace / "new").mkdir()
    new.to_parquet(workspace / "new" / "a.parquet")
    data.create("wine", workspace / "train.csv")
    data.create("wine-new", workspace / "new")
    with TrackedRun(RunSpec(name="train", experiment="drift")):
        frame = data.get("wine@1").to_pandas()
        model = LinearRegression().fit(frame[FEATURES], frame["y"])
        nbstudio.register_model(
            model, "wine", aliases=["champion"], input_example=frame[FEATURES].head(2)
        )
    job = score("wine@champion", "wine-new@1", compute="local").wait()
    assert job.status == "FINISHED", job.error
    return job


def test_a_batch_job_or_its_run_id_is_the_current_data(scored):
    client = mlflow.MlflowClient()
    for current in (scored, f"batch:{scored.run_id}"):
        result = drift("wine@champion", current=current)
        # rule: the job's input version is compared; the shifted feature alone is flagged
        assert result.drifted_features == ["alcohol"]
        assert result.current == f"wine-new@1 (input of batch job {scored.run_id[:8]})"
        run = client.get_run(result.run_id)
        assert run.data.tags["nbstudio.drift.source"] == "batch"
        # rule: the job's input is recorded as the drift run's input, like any asset version
        assert {i.dataset.name for i in run.inputs.dataset_inputs} == {"wine", "wine-new"}


def test_unknown_runs_and_runs_that_are_not_batch_jobs_are_one_line(scored):
    train_run = mlflow.search_runs(search_all_experiments=True, filter_string="run_name = 'train'")
    not_a_job = train_run["run_id"].iloc[0]
    for current, message in [
        ("batch:0123456789abcdef0123456789abcdef", "no run with this id"),
        ("batch:nope", "32 hex digits"),
        (f"batch:{not_a_job}", "is not a batch job"),
    ]:
        with pytest.raises(DriftError, match=message) as caught:
            drift("wine@champion", current=current)
        assert "\n" not in str(caught.value)
    # rule: a refused check records no drift run
    drift_runs = mlflow.search_runs(
        search_all_experiments=True, filter_string="tags.`nbstudio.drift` = 'true'"
    )
    assert len(drift_runs) == 0


def test_drift_magic_takes_a_job_variable_or_batch_id(ip, scored):
    ip.user_ns["job"] = scored
    for line in ("wine@champion --current job", f"wine@champion --current batch:{scored.run_id}"):
        result = ip.run_cell(f"%drift {line}")
        # rule: %drift reads a batch job's input
        assert result.error_in_exec is None
        assert result.result.drifted_features == ["alcohol"]
    refused = ip.run_cell("%drift wine@champion --current batch:123")
    assert "32 hex digits" in str(refused.error_in_exec)


def test_frames_and_asset_versions_keep_their_source(workspace):
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    # rule: a DataFrame is its own source; anything else is refused in one line
    assert resolve(frame, "current").source == "dataframe"
    with pytest.raises(DriftError, match="batch:RUN_ID"):
        resolve(42, "current")
    with pytest.raises(DriftError, match="only to endpoint:NAME"):
        resolve(frame, "current", since="1h")


def test_since_reads_durations_and_times():
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    assert parse_since("90m", now) == now - timedelta(minutes=90)
    assert parse_since("2d", now) == now - timedelta(days=2)
    assert parse_since("2026-04-30 08:00", now) == datetime(2026, 4, 30, 8, 0, tzinfo=UTC)
    assert parse_since(datetime(2026, 4, 30), now).tzinfo is UTC


@given(st.one_of(st.text(max_size=30), st.integers(), st.floats()))
def test_since_is_a_time_or_a_one_line_error(value):
    try:
        start = parse_since(value, datetime(2026, 5, 1, tzinfo=UTC))
    except DriftError as exc:
        message = str(exc)
        assert "\n" not in message
        return
    # rule: whatever is accepted is an aware UTC time
    assert start is not None
    assert start.tzinfo is not None
