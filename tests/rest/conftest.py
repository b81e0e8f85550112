"""A populated workspace store and a jupyter_server with the nbstudio extension, for tests/rest.

pytest-jupyter's fixtures and hooks are imported here rather than declared as a plugin, so that
its autouse fixtures (a server instance cleaned after every test, the event loop closed) apply to
this folder only, not to the rest of the suite.
"""

from __future__ import annotations

import math
import os
import random
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pytest_jupyter.jupyter_server import *  # noqa: F403

from helpers.workspace import module_workspace

T0 = 1_700_000_000_000


@dataclass
class Store:
    """What `build_store` made: ids to ask the API about."""

    root: Path
    exp_a: str
    exp_b: str
    runs: list[str] = field(default_factory=list)
    tracked: str = ""
    parent: str = ""
    children: list[str] = field(default_factory=list)
    history: str = ""
    deleted: str = ""
    outside: Path | None = None


def png_bytes() -> bytes:
    """A valid 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def build_store(root: Path) -> Store:
    """Two experiments with varied runs: ties, missing and NaN metrics, children, artifacts."""
    from mlflow.entities import Metric, Param, RunTag

    from nbstudio.session import get_session
    from nbstudio.tracking import RunSpec, TrackedRun

    session = get_session()
    client = session.client()
    exp_a = session.experiment_id("exp-a")
    exp_b = session.experiment_id("exp-b")
    store = Store(root=root, exp_a=exp_a, exp_b=exp_b)
    rng = random.Random(3)
    statuses = ["FINISHED", "FINISHED", "FAILED", "KILLED", "RUNNING"]
    for i in range(36):
        start = T0 + (i // 3) * 1000  # groups of three share a start time: run id breaks ties
        tags = {}
        if i % 3:
            tags["team"] = "x" if i % 2 else "Y"
        if i % 7 == 0:
            tags["nbstudio.primary_metric"] = "m1"
        name = f"run-{i:02d}" if i % 5 else f"Run_{i:02d}%"
        run = client.create_run(exp_a, start_time=start, tags=tags, run_name=name)
        run_id = run.info.run_id
        metrics = [Metric("m0", round(rng.random(), 1), start, 0)]  # rounded: ties on value
        if i % 4:
            metrics.append(Metric("m1", rng.random(), start, 0))
        if i % 6 == 0:
            metrics.append(Metric("m2", math.nan, start, 0))
        elif i % 2:
            metrics.append(Metric("m2", float(i % 3), start, 0))
        params = [Param("p0", "abc"[i % 3])]
        if i % 5 != 4:
            params.append(Param("p1", str(i * 7)))
        client.log_batch(run_id, metrics=metrics, params=params)
        status = statuses[i % len(statuses)]
        if status != "RUNNING":
            client.set_terminated(run_id, status, end_time=start + 500 + 10 * i)
        store.runs.append(run_id)
    deleted = client.create_run(exp_a, start_time=T0 + 99_000, run_name="gone")
    client.delete_run(deleted.info.run_id)
    store.deleted = deleted.info.run_id

    # A run made as %%mlrun makes it: tags, cell.py, outputs/log.txt.
    with TrackedRun(
        RunSpec(name="tracked", experiment="exp-b", params={"lr": 0.1}, source="print('hi')\n")
    ) as tracked:
        print("hello from the run")
        client.log_metric(tracked.run_id, "loss", 0.25)
    store.tracked = tracked.run_id
    artifacts = root / "extra"
    (artifacts / "plots").mkdir(parents=True)
    (artifacts / "plots" / "dot.png").write_bytes(png_bytes())
    (artifacts / "blob.bin").write_bytes(bytes(range(256)) * 4)
    (artifacts / "big.txt").write_text("é" * 700_000)  # 1.4 MB: cut at 1 MB mid-character
    secret = root / "outside.txt"
    secret.write_text("not an artifact")
    store.outside = secret
    client.log_artifacts(store.tracked, str(artifacts))
    local = Path(client.get_run(store.tracked).info.artifact_uri.removeprefix("file://"))
    os.symlink(secret, local / "escape.txt")

    parent = client.create_run(exp_b, start_time=T0, run_name="parent")
    store.parent = parent.info.run_id
    for k in range(3):
        child = client.create_run(
            exp_b,
            start_time=T0 + k,
            run_name=f"child-{k}",
            tags={"mlflow.parentRunId": store.parent},
        )
        client.log_metric(child.info.run_id, "score", k / 10)
        client.set_terminated(child.info.run_id, "FINISHED")
        store.children.append(child.info.run_id)
    client.set_terminated(store.parent, "FINISHED")

    history = client.create_run(exp_b, start_time=T0 + 5, run_name="history")
    store.history = history.info.run_id
    points = [
        Metric("train/loss", math.nan if s == 777 else 10 - s / 500 + rng.random(), T0 + s, s)
        for s in range(5000)
    ]
    for first in range(0, len(points), 1000):
        client.log_batch(store.history, metrics=points[first : first + 1000])
    # Plain log_metric without a step: every point at step 0, only time moves.
    flat = [Metric("plain", float(k % 17), T0 + 10 * k, 0) for k in range(300)]
    client.log_batch(store.history, metrics=flat, tags=[RunTag("kind", "long")])
    client.set_terminated(store.history, "FINISHED")
    return store


@pytest.fixture(scope="module")
def store_kind() -> str:
    """The tracking store behind `populated`; a module overrides it to run on PostgreSQL too."""
    return "sqlite"


@pytest.fixture(scope="module")
def populated(
    tmp_path_factory: pytest.TempPathFactory, store_kind: str, request: pytest.FixtureRequest
) -> Iterator[Store]:
    """One populated workspace per test module (building it takes a few seconds)."""
    uri = None
    if store_kind == "postgresql":
        from helpers.postgres import new_database

        uri = new_database(request.getfixturevalue("postgres"))
    with module_workspace(tmp_path_factory.mktemp("panel") / "ws", uri) as root:
        yield build_store(root)


@pytest.fixture
def session(populated: Store):
    """The session of the populated workspace (the server extension resets it to its root)."""
    from nbstudio.session import get_session, reset_session

    current = get_session()
    if current._start != populated.root:
        current = reset_session(populated.root)
    return current


@pytest.fixture
def jp_server_config() -> dict:
    # Installed config is ignored under pytest-jupyter: enable the extension explicitly.
    return {"ServerApp": {"jpserver_extensions": {"nbstudio": True}}}


@pytest.fixture
def jp_root_dir(populated: Store) -> Path:
    """The server serves the populated workspace."""
    return populated.root
