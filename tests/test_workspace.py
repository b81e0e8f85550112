"""Workspace discovery and store resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbstudio import workspace
from nbstudio.errors import WorkspaceError


def test_nearest_folder_with_config_is_the_workspace(tmp_path: Path) -> None:
    (tmp_path / "nbstudio.toml").write_text("")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    # rule: the nearest folder upwards holding nbstudio.toml wins
    assert workspace.find_root(deep) == tmp_path.resolve()


def test_without_config_the_current_folder_is_the_workspace(tmp_path: Path) -> None:
    # rule: no nbstudio.toml anywhere above means the folder itself
    assert workspace.find_root(tmp_path) == tmp_path.resolve()


def test_default_store_is_embedded_sqlite(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    ws = workspace.resolve(tmp_path)
    # rule: default tracking store is <workspace>/.nbstudio/mlflow.db, artifacts beside it
    assert ws.tracking_uri == f"sqlite:///{tmp_path.resolve()}/.nbstudio/mlflow.db"
    assert ws.artifact_root == tmp_path.resolve() / ".nbstudio" / "artifacts"
    assert ws.uses_embedded_store


@pytest.mark.parametrize(
    ("config_uri", "env_uri", "expected"),
    [
        ("http://127.0.0.1:5000", None, "http://127.0.0.1:5000"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:6000", "http://127.0.0.1:6000"),
        ("sqlite:///runs/db.sqlite", None, "sqlite:///{root}/runs/db.sqlite"),
    ],
    ids=["config-overrides-default", "env-overrides-config", "relative-sqlite-from-root"],
)
def test_tracking_uri_precedence(tmp_path, monkeypatch, config_uri, env_uri, expected) -> None:
    (tmp_path / "nbstudio.toml").write_text(f'tracking_uri = "{config_uri}"\n')
    if env_uri:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", env_uri)
    else:
        monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    sub = tmp_path / "notebooks"
    sub.mkdir()
    # rule: MLFLOW_TRACKING_URI > nbstudio.toml tracking_uri > embedded default
    assert workspace.resolve(sub).tracking_uri == expected.format(root=tmp_path.resolve())


def test_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "nbstudio.toml").write_text("tracking_uri = \n")
    # rule: invalid TOML names the file instead of a parser traceback
    with pytest.raises(WorkspaceError, match=r"nbstudio\.toml is not valid TOML"):
        workspace.resolve(tmp_path)


def test_located_workspace_leaves_the_store_closed(workspace: Path) -> None:
    from nbstudio.session import get_session

    session = get_session()
    located = session.located_workspace()
    # rule: finding the workspace does not create or open its store (quick terminal commands)
    assert located.root == workspace
    assert not (workspace / ".nbstudio" / "mlflow.db").exists()
    opened = session.workspace
    # rule: once the store is open, the open workspace is the one returned
    assert session.located_workspace() is opened
    assert (workspace / ".nbstudio" / "mlflow.db").exists()


def test_subpackages_are_reachable_from_a_bare_import() -> None:
    import subprocess
    import sys

    code = "import nbstudio; print(callable(nbstudio.endpoints.invoke), nbstudio.compute.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # rule: nbstudio.endpoints.invoke (as in the README) works after `import nbstudio` alone
    assert out.stdout.split() == ["True", "nbstudio.compute"]
