"""A new workspace's store starts as a copy of an empty store MLflow made earlier on the machine."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import mlflow
import pytest

from nbstudio import store_template
from nbstudio.session import get_session, reset_session


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return folder


def _open(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Open ``folder`` as a new workspace (its store is made) and return the store's file."""
    folder.mkdir()
    (folder / "nbstudio.toml").write_text("")
    monkeypatch.chdir(folder)
    mlflow.set_tracking_uri(None)
    reset_session()
    get_session().workspace  # noqa: B018 - makes the store
    return folder / ".nbstudio" / "mlflow.db"


def _mark_template() -> None:
    """A tag on the template's Default experiment: a store that has it was copied."""
    with sqlite3.connect(store_template.template_path()) as conn:
        conn.execute("INSERT INTO experiment_tags VALUES ('copied', 'yes', 0)")


def _tags_of_default(db: Path) -> dict[str, str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT key, value FROM experiment_tags WHERE experiment_id = 0")
        return dict(rows.fetchall())


def test_the_second_workspace_is_copied_and_is_its_own(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _open(tmp_path / "first", monkeypatch)
    # rule: the first store made on a machine is kept as the template
    assert store_template.template_path().is_file()
    _mark_template()
    second = _open(tmp_path / "second", monkeypatch)
    # rule: the next new workspace starts from the template
    assert _tags_of_default(second) == {"copied": "yes"}
    assert "copied" not in _tags_of_default(first)
    # rule: its Default experiment and runs live in its own artifact folder; WAL like any store
    with mlflow.start_run() as run:
        mlflow.log_metric("m", 1.0)
        mlflow.log_text("hello", "a.txt")
    artifact_uri = mlflow.get_run(run.info.run_id).info.artifact_uri
    assert artifact_uri.startswith((tmp_path / "second" / ".nbstudio").as_uri())
    assert (Path(artifact_uri.removeprefix("file://")) / "a.txt").read_text() == "hello"
    assert mlflow.search_runs(search_all_experiments=True)["metrics.m"].tolist() == [1.0]
    with sqlite3.connect(second) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # rule: the template itself is never written by the workspaces made from it
    with sqlite3.connect(store_template.template_path()) as conn:
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 0
    reset_session()


@pytest.mark.parametrize("damage", ["garbage", "old-revision"])
def test_a_template_mlflow_refuses_is_not_used(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    _open(tmp_path / "first", monkeypatch)
    template = store_template.template_path()
    if damage == "garbage":
        template.write_bytes(b"not a database" * 100)
    else:
        with sqlite3.connect(template) as conn:
            conn.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    db = _open(tmp_path / "second", monkeypatch)
    # rule: the store is made the usual way and works; no error reaches the user
    with mlflow.start_run():
        mlflow.log_metric("m", 2.0)
    assert mlflow.search_runs(search_all_experiments=True)["metrics.m"].tolist() == [2.0]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] != (
            "ffffffffffff"
        )
    reset_session()
