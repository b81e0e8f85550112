"""%load_ext nbstudio warms the first cell up in the background: MLflow, the store, plotly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import sys, time
from IPython.testing.globalipapp import get_ipython
ip = get_ipython()
ip.run_line_magic('load_ext', 'nbstudio')
from nbstudio.jupyter import warmup
assert warmup.wait(120)
warmed = sorted(m for m in ('mlflow', 'plotly.basewidget') if m in sys.modules)
print('warmed', warmed)
"""


def _run(tmp_path: Path, **env: str) -> str:
    (tmp_path / "nbstudio.toml").write_text("")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_TRACKING", "NBS"))}
    environ.update(env, MLFLOW_DISABLE_TELEMETRY="true")
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    return done.stdout


def test_load_ext_warms_mlflow_the_store_and_plotly_in_the_background(tmp_path: Path) -> None:
    out = _run(tmp_path)
    # rule: after %load_ext the warm-up thread has imported MLflow and plotly's widget, and
    # created and migrated the store, before any cell asked for them
    assert "warmed ['mlflow', 'plotly.basewidget']" in out
    assert (tmp_path / ".nbstudio" / "mlflow.db").stat().st_size > 0


def test_warmup_can_be_turned_off(tmp_path: Path) -> None:
    out = _run(tmp_path, NBSTUDIO_WARMUP="0")
    # rule: NBSTUDIO_WARMUP=0 leaves the first cell to pay its costs (no store is opened)
    assert "warmed []" in out
    assert not (tmp_path / ".nbstudio").exists()


def test_a_new_store_is_created_without_mlflows_info_lines(tmp_path: Path) -> None:
    (tmp_path / "nbstudio.toml").write_text("")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
    done = subprocess.run(
        [sys.executable, "-c", "from nbstudio.session import get_session\nget_session().workspace"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    # rule: a newcomer's first cell shows no "Creating initial MLflow database tables..." in red
    assert "database tables" not in done.stderr
    assert (tmp_path / ".nbstudio" / "mlflow.db").exists()
