"""Opening the panel on a folder that never ran nbstudio leaves the folder as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROUTES = ("workspace", "experiments", "runs", "sweeps", "models", "compute", "endpoints", "data")


@pytest.fixture
def jp_root_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh folder: no nbstudio.toml, no .nbstudio/, no tracking URI in the environment."""
    root = tmp_path / "fresh"
    root.mkdir()
    (root / "notes.ipynb").write_text("{}")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("NBSTUDIO_IMPLICIT_TRACKING_URI", raising=False)
    return root


async def test_panel_reads_create_nothing(jp_fetch, jp_root_dir: Path) -> None:
    before = sorted(p.name for p in jp_root_dir.iterdir())
    bodies = {}
    for route in ROUTES:
        response = await jp_fetch("nbstudio", "api", route)
        bodies[route] = json.loads(response.body)
    # Rule: every section the panel loads answers (empty) on a fresh folder...
    assert bodies["workspace"]["root"] == str(jp_root_dir)
    assert bodies["experiments"] == {"experiments": []}
    assert bodies["runs"]["runs"] == []
    assert bodies["sweeps"] == {"sweeps": []}
    assert bodies["models"] == {"models": []}
    # ...and reading creates no state: no .nbstudio/ (nor anything else) appears.
    assert sorted(p.name for p in jp_root_dir.iterdir()) == before
