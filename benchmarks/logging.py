"""10,000 mlflow.log_metric calls inside %%mlrun vs plain synchronous MLflow (target: >= 30x).

This script's name is the one the issue gives it, and it is also the standard library's ``logging``.
A script's folder leads ``sys.path``, so when another benchmark here runs, ``import logging`` finds
this file: it then hands over to the standard library's module instead of running.
"""

from __future__ import annotations

import os
import sys

if __name__ != "__main__":
    import importlib

    _here = os.path.dirname(os.path.abspath(__file__))
    _saved_path = sys.path[:]
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
    del sys.modules[__name__]
    try:
        _stdlib_logging = importlib.import_module("logging")
    finally:
        sys.path[:] = _saved_path
    sys.modules[__name__] = _stdlib_logging
    globals().update(_stdlib_logging.__dict__)

N = 10_000


def main() -> None:
    import importlib.util
    import time
    from pathlib import Path

    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    spec = importlib.util.spec_from_file_location("_shell", here / "_shell.py")
    shell_setup = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shell_setup)

    shell_setup.fresh_workspace()
    ip = shell_setup.shell()
    ip.run_cell("%%mlrun warmup\nimport mlflow\nmlflow.log_metric('w', 1)\n")
    started = time.perf_counter()
    ip.run_cell(
        f"%%mlrun fast\nfor i in range({N}):\n    mlflow.log_metric('loss', 1 / (i + 1), step=i)\n"
    )
    magic = time.perf_counter() - started
    import mlflow

    from nbstudio.session import get_session

    session = get_session()
    stored = len(session.client().get_metric_history(session.last_run_id, "loss"))

    started = time.perf_counter()
    with mlflow.start_run(run_name="plain"):
        for i in range(N):
            mlflow.log_metric("loss", 1 / (i + 1), step=i, synchronous=True)
    plain = time.perf_counter() - started
    print(f"{N} log_metric calls inside %%mlrun (to the end of the cell): {magic:.2f} s")
    print(f"{N} log_metric calls in plain mlflow.start_run (synchronous): {plain:.2f} s")
    print(f"points in the store when the cell ended: {stored} of {N}")
    print(f"speed-up: {plain / magic:.1f}x (target >= 30x, issue 13)")


if __name__ == "__main__":
    main()
