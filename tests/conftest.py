"""Shared fixtures: a fresh workspace with its own SQLite store, and an IPython shell using it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.mlflow_server import mlflow_server  # noqa: F401 - a fixture for every folder

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
# No background warm-up after %load_ext: a thread of one test must never open a store after the
# next test switched workspace (tests/jupyter/test_warmup.py turns it on in a process of its own).
os.environ.setdefault("NBSTUDIO_WARMUP", "0")


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A workspace folder (with nbstudio.toml) as the current directory and a fresh session."""
    import mlflow

    from nbstudio.session import reset_session

    # A fresh kernel has no tracking URI set in-process; earlier tests in this process did.
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)
    root = tmp_path / "ws"
    root.mkdir()
    (root / "nbstudio.toml").write_text("")
    monkeypatch.chdir(root)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("NBSTUDIO_IMPLICIT_TRACKING_URI", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    reset_session()
    yield root
    while mlflow.active_run() is not None:
        mlflow.end_run("KILLED")
    reset_session()


@pytest.fixture
def ip(workspace: Path):
    """A real IPython shell with nbstudio loaded; cell errors are re-raised to the test."""
    from IPython.testing.globalipapp import get_ipython

    shell = get_ipython()
    shell.run_line_magic("load_ext", "nbstudio")
    from nbstudio.jupyter.extension import load_ipython_extension

    load_ipython_extension(shell)  # as a fresh kernel would: %load_ext runs once per process
    yield shell
    shell.reset(new_session=False)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Under pytest-xdist, a worker hands its fuzz counts to the main process."""
    import sys

    workeroutput = getattr(session.config, "workeroutput", None)
    helpers = sys.modules.get("helpers.fuzz")
    if workeroutput is not None and helpers is not None:
        workeroutput["fuzz_counts"] = {suite: dict(c) for suite, c in helpers.COUNTS.items()}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """The main process adds up each worker's fuzz counts for the summary below."""
    counts = getattr(node, "workeroutput", {}).get("fuzz_counts")
    if counts:
        from helpers import fuzz as fuzz_helpers

        for suite, suite_counts in counts.items():
            fuzz_helpers.COUNTS[suite].update(suite_counts)


def pytest_terminal_summary(terminalreporter) -> None:
    """The fuzz suite's counts (tried / 2xx / 4xx / failures), when fuzz tests ran."""
    import sys

    helpers = sys.modules.get("helpers.fuzz")
    if helpers is not None and helpers.COUNTS:
        terminalreporter.section("fuzz counts")
        for line in helpers.summary_lines():
            terminalreporter.write_line(line)


@pytest.fixture
def python_ctrl_c() -> Iterator[None]:
    """Python's own Ctrl+C handler, whatever an earlier test in this process (a server)
    installed; the one before is back after the test."""
    import signal

    saved = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, saved)


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL cluster for the session (`helpers.postgres`); its base URI."""
    from helpers.postgres import postgres_cluster

    with postgres_cluster() as uri:
        yield uri


@pytest.fixture(autouse=True)
def _no_asynchronous_logging_left_on() -> Iterator[None]:
    """A test that leaves MLflow's asynchronous logging switched on for the process makes every
    later test's client calls queued (their errors only logged): fail the test that did it."""
    before = os.environ.get("MLFLOW_ENABLE_ASYNC_LOGGING")
    yield
    after = os.environ.get("MLFLOW_ENABLE_ASYNC_LOGGING")
    assert after == before, f"MLFLOW_ENABLE_ASYNC_LOGGING left as {after!r} (was {before!r})"
