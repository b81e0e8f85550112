"""The README's first example pastes and runs as is, in a fresh workspace and a real kernel."""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

README = Path(__file__).resolve().parents[2] / "README.md"


def _first_example() -> list[str]:
    text = README.read_text()
    start = text.index("A first cell to paste")
    blocks = re.findall(r"```python\n(.*?)```", text[start:], re.S)
    return blocks[:2]


def test_the_readme_first_example_runs_as_pasted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cells = _first_example()
    # rule: the quick start shows %load_ext, then a %%mlrun cell
    assert cells[0].strip() == "%load_ext nbstudio"
    assert cells[1].startswith("%%mlrun")
    (tmp_path / "nbstudio.toml").write_text("")
    for name in ("MLFLOW_TRACKING_URI", "NBSTUDIO_IMPLICIT_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = NotebookClient(nb, timeout=120, kernel_name="python3")
    client.execute(cwd=str(tmp_path), env=dict(os.environ))
    outputs = [o for cell in nb.cells for o in cell.get("outputs", [])]
    # rule: pasted as is, the example runs without an error and its run ends FINISHED
    assert not [o for o in outputs if o.output_type == "error"]
    shown = " ".join(str(o.get("data", {}).get("text/html", "")) for o in outputs)
    assert 'data-status="FINISHED"' in shown
