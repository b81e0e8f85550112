"""Compute benchmark: 8 trials of 2 s, serial on ``local`` vs 2 at a time on a 2-node cluster.

Baseline (issue 6): the same 8 trials run one after the other on ``local`` (the kernel), measured in
the same run. Target: speedup >= 1.8x. Also printed: the cluster's cold start (create -> running,
and create -> first cell done on a 0-node cluster, which includes starting a node) and the
per-cell overhead of an empty cell on the (warm) cluster next to the same empty cell run locally.

Each trial is a tracked MLflow run (TrackedRun) that logs a metric every 0.1 s for 2 s, as a sweep
trial would. Run: ``.venv/bin/python benchmarks/compute.py``.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cloudpickle

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

TRIALS = 8
TRIAL_SECONDS = 2.0
CONCURRENT = 2
EMPTY_CELLS = 10

cloudpickle.register_pickle_by_value(sys.modules[__name__])


def trial(index: int) -> float:
    import mlflow

    from nbstudio.tracking import RunSpec, TrackedRun

    with TrackedRun(RunSpec(name=f"bench-{index}", params={"index": index})):
        deadline = time.monotonic() + TRIAL_SECONDS
        step = 0
        while time.monotonic() < deadline:
            mlflow.log_metric("score", step * 0.01, step=step)
            step += 1
            time.sleep(0.1)
    return float(step)


def run_all(executor, concurrent: int) -> float:
    """Run TRIALS trials keeping ``concurrent`` in flight, as a sweep controller does."""
    started = time.monotonic()
    pending = list(range(TRIALS))
    running = []
    while pending or running:
        while pending and len(running) < concurrent:
            running.append(executor.submit(trial, pending.pop(0)))
        for handle in [h for h in running if h.done()]:
            handle.result()
            running.remove(handle)
        time.sleep(0.02)
    return time.monotonic() - started


def main() -> None:
    from nbstudio.compute import targets
    from nbstudio.compute.cells import run_cell
    from nbstudio.compute.executor import executor_for
    from nbstudio.compute.remote import close_clients
    from nbstudio.session import get_session, reset_session
    from nbstudio.tracking import RunSpec, TrackedRun

    with tempfile.TemporaryDirectory(prefix="nbstudio-bench-compute-") as folder:
        root = Path(folder)
        (root / "nbstudio.toml").write_text("")
        os.chdir(root)
        reset_session(root)
        get_session().workspace  # noqa: B018 (open MLflow once, outside the timings)
        trial(-1)  # warm the kernel side too

        serial = run_all(executor_for("local", max_workers=1), concurrent=1)

        t0 = time.monotonic()
        targets.create("bench", min_nodes=0, max_nodes=CONCURRENT, idle_seconds=300)
        to_running = time.monotonic() - t0
        run_cell("bench", "pass", {}, RunSpec(name="cold"))
        to_first_cell = time.monotonic() - t0
        try:
            targets.scale("bench", nodes=CONCURRENT)
            # Warm both nodes (their first tracked run imports MLflow), as a sweep's first trials
            # would; the measured sweep then runs on a warm cluster.
            run_all(executor_for("bench"), concurrent=CONCURRENT)
            cluster = run_all(executor_for("bench"), concurrent=CONCURRENT)

            remote_cells = []
            for _ in range(EMPTY_CELLS):
                t = time.monotonic()
                run_cell("bench", "pass", {}, RunSpec(name="empty"))
                remote_cells.append(time.monotonic() - t)
            local_cells = []
            for _ in range(EMPTY_CELLS):
                t = time.monotonic()
                with TrackedRun(RunSpec(name="empty-local")):
                    pass
                local_cells.append(time.monotonic() - t)
        finally:
            close_clients()
            targets.delete("bench")
        reset_session()

    remote_cell = statistics.median(remote_cells)
    local_cell = statistics.median(local_cells)
    ideal = TRIALS * TRIAL_SECONDS
    print(f"trials: {TRIALS} x {TRIAL_SECONDS:.0f} s (ideal serial {ideal:.0f} s)")
    print(f"serial on local (baseline):          {serial:6.2f} s")
    print(f"{CONCURRENT} at a time on a {CONCURRENT}-node cluster:    {cluster:6.2f} s")
    print(f"speedup vs baseline:                 {serial / cluster:6.2f}x  (target >= 1.80x)")
    print(f"cold start, create -> running:       {to_running:6.2f} s")
    print(f"cold start, create -> first cell:    {to_first_cell:6.2f} s  (0 -> 1 node, empty cell)")
    print(f"empty cell on the cluster (median):  {remote_cell * 1000:6.0f} ms")
    print(f"empty tracked run locally (median):  {local_cell * 1000:6.0f} ms")
    print(f"per-cell overhead of the cluster:    {(remote_cell - local_cell) * 1000:6.0f} ms "
          f"({remote_cell / local_cell:.2f}x the local run)")  # fmt: skip


if __name__ == "__main__":
    main()
