"""%load_ext nbstudio warms the first cell up while the kernel is idle (MLflow, store, plotly)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel

PROBE = "import sys; print(sorted(m for m in ('mlflow', 'plotly.basewidget') if m in sys.modules))"


def _kernel_output(client, code: str) -> str:
    chunks: list[str] = []

    def keep(message: dict) -> None:
        if message["msg_type"] == "stream":
            chunks.append(message["content"]["text"])
        elif message["msg_type"] in ("display_data", "execute_result"):
            chunks.append(message["content"]["data"].get("text/plain", ""))

    reply = client.execute_interactive(code, timeout=120, output_hook=keep)
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(chunks)


@pytest.fixture
def kernel(tmp_path: Path):
    def start(**env: str):
        (tmp_path / "nbstudio.toml").write_text("")
        environ = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
        environ.update(env, MLFLOW_DISABLE_TELEMETRY="true")
        manager, client = start_new_kernel(kernel_name="python3", cwd=str(tmp_path), env=environ)
        started.append((manager, client))
        return client

    started: list = []
    yield start
    for manager, client in started:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_load_ext_warms_mlflow_the_store_and_plotly_while_the_kernel_is_idle(
    kernel, tmp_path: Path
) -> None:
    client = kernel(NBSTUDIO_WARMUP="1")
    _kernel_output(client, "%load_ext nbstudio")
    deadline = time.monotonic() + 120
    while "True" not in _kernel_output(
        client, "from nbstudio.jupyter import warmup\nprint(warmup.done())"
    ):
        assert time.monotonic() < deadline, "the warm-up did not finish"
        time.sleep(1)
    # rule: with no cell asking, the idle kernel has imported MLflow and plotly's widget and
    # created and migrated the store
    assert _kernel_output(client, PROBE).strip() == "['mlflow', 'plotly.basewidget']"
    assert (tmp_path / ".nbstudio" / "mlflow.db").stat().st_size > 0
    # rule: the one metric hook is in place, and the map of installed packages that the first
    # model's save builds (seconds on a loaded machine) is built: a first %register_model is fast
    probe = (
        "import mlflow, mlflow.utils.requirements_utils as r, nbstudio.tracking.hook as h\n"
        "print(mlflow.log_metric is h._WRAPPERS['log_metric'], r._MODULES_TO_PACKAGES is not None)"
    )
    assert _kernel_output(client, probe).split() == ["True", "True"]
    # rule: a cell importing what the warm-up imports meanwhile runs without an import error
    assert "ok" in _kernel_output(client, "import sklearn.linear_model, pandas\nprint('ok')")


def test_cells_sent_right_after_load_ext_run_alongside_the_warm_up(kernel) -> None:
    client = kernel(NBSTUDIO_WARMUP="1")
    _kernel_output(client, "%load_ext nbstudio")
    # rule: the user's own imports, arriving while the warm-up goes on, never meet an import
    # deadlock (the warm-up runs on the kernel's thread, between cells)
    out = _kernel_output(
        client, "import sklearn.datasets, sklearn.linear_model, pandas, plotly.express\nprint('ok')"
    )
    assert out.strip() == "ok"
    assert "FINISHED" in _kernel_output(client, "%%mlrun --no-monitor\nx = 1\n")


def test_warmup_can_be_turned_off(kernel, tmp_path: Path) -> None:
    client = kernel(NBSTUDIO_WARMUP="0")
    _kernel_output(client, "%load_ext nbstudio")
    time.sleep(3)
    # rule: NBSTUDIO_WARMUP=0 leaves the first cell to pay its costs (no store is opened)
    assert _kernel_output(client, PROBE).strip() == "[]"
    assert not (tmp_path / ".nbstudio").exists()


def test_a_new_store_is_created_without_mlflows_info_lines(tmp_path: Path) -> None:
    (tmp_path / "nbstudio.toml").write_text("")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
    environ["XDG_CACHE_HOME"] = str(tmp_path / "cache")  # no store template: MLflow migrates
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


def test_a_cell_right_after_load_ext_does_not_wait_for_plotly(kernel) -> None:
    client = kernel(NBSTUDIO_WARMUP="1")
    _kernel_output(client, "%load_ext nbstudio")
    out = _kernel_output(
        client, "%%mlrun quick\nimport sys\nprint('plotly:', 'plotly.basewidget' in sys.modules)\n"
    )
    # rule: a cell arriving before the warm-up reached plotly runs without importing it (its
    # monitor shows header, status and values at once; the chart comes with later cells)
    assert "Run quick" in out
    assert "plotly: False" in out
