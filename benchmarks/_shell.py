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
