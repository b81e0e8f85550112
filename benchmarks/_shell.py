"""Shared set-up for the foundation benchmarks: a fresh workspace and an IPython shell using it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


def fresh_workspace() -> Path:
    root = Path(tempfile.mkdtemp(prefix="nbstudio-bench-"))
    (root / "nbstudio.toml").write_text("")
    os.chdir(root)
    for name in ("MLFLOW_TRACKING_URI", "NBSTUDIO_IMPLICIT_TRACKING_URI"):
        os.environ.pop(name, None)
    return root


def shell():
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.run_line_magic("load_ext", "nbstudio")
    return ip


def median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


#: Fresh kernels per first-cell figure: a single kernel's first cell varies by +-0.4 s here.
KERNELS = 3


def first_in_kernel(
    setup: list[str], timed: str, pause: float, warmup: bool = True, **extra_env: str
) -> float:
    """Seconds of cell ``timed`` in a fresh ipykernel on a new workspace, run ``pause`` s after
    the ``setup`` cells (``%load_ext nbstudio`` first): what a user's first such cell costs
    (median of `KERNELS` kernels)."""
    return median(
        [first_in_kernel_once(setup, timed, pause, warmup, **extra_env) for _ in range(KERNELS)]
    )


def first_in_kernel_once(
    setup: list[str], timed: str, pause: float = 0.0, warmup: bool = True, **extra_env: str
) -> float:
    """`first_in_kernel` in one kernel."""
    import shutil
    import tempfile
    import time

    from jupyter_client.manager import start_new_kernel

    root = Path(tempfile.mkdtemp(prefix="nbstudio-first-"))
    (root / "nbstudio.toml").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
    env["NBSTUDIO_WARMUP"] = "1" if warmup else "0"
    env.update(extra_env)
    manager, client = start_new_kernel(kernel_name="python3", cwd=str(root), env=env)
    try:
        for cell in setup:
            _execute(client, cell)
        time.sleep(pause)
        started = time.perf_counter()
        _execute(client, timed)
        return time.perf_counter() - started
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
        shutil.rmtree(root, ignore_errors=True)


def _execute(client, cell: str) -> None:
    reply = client.execute_interactive(cell, timeout=300, output_hook=lambda message: None)
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"benchmark cell failed: {reply['content'].get('evalue')}")
