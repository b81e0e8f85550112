"""Panel REST API on a large store vs MLflow's own calls, measured in the same run.

Fills a fresh workspace store with 10,000 runs (5 params, 5 metrics each) plus one run with a
100,000-point metric, starts a real jupyter server with the nbstudio extension, then times:

(a) the first page of the 50 newest runs vs ``MlflowClient().search_runs(max_results=50)``
    (target: at most 1.5x MLflow);
(b) a page of 50 filtered on one metric and ordered by another (``metrics.m0 > 0.5``,
    ``metrics.m1 DESC``) vs the same MlflowClient call (target: at least 10x faster);
(c) the 100,000-point history downsampled to at most 2,000 points vs ``get_metric_history`` and
    the MLflow UI's ``get-history-bulk-interval`` store call (target: at most 30 ms, issue 18);
(d) the first load of every section the panel fills, on the cold server right after it answers
    (target: all filled within 1 s of JupyterLab being ready, issue 18).

Each nbstudio figure is given through the core function and through the HTTP handler (a real
``jupyter server`` process, token auth). Run: ``.venv/bin/python benchmarks/panel_api.py``.
"""

from __future__ import annotations

import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
sys.path.insert(0, str(Path(__file__).parent))


RUNS = 10_000
PARAMS = 5
METRICS = 5
LONG_POINTS = 100_000
CHUNK = 1000
# The sections the side panel fills when it opens, in its order.
SECTIONS = ("experiments", "runs", "sweeps", "models", "compute", "endpoints", "data")


def fill_store(root: Path) -> tuple[str, str, str]:
    """The workspace's store with RUNS runs and one long-history run: (uri, experiment, run)."""
    from mlflow.entities import Metric

    from nbstudio.session import reset_session
    from nbstudio.tracking import mlflow_private
    from nbstudio.tracking.bulk import RunRows, add_run_rows, transaction

    session = reset_session(root)
    ws = session.workspace
    client = session.client()
    experiment_id = session.experiment_id("bench")
    store = mlflow_private.tracking_store(client)
    artifact_location = client.get_experiment(experiment_id).artifact_location
    rng = random.Random(7)
    t0 = 1_700_000_000_000
    # Bulk rows exactly as SqlAlchemyStore.create_run + log_batch + set_terminated write them,
    # 1,000 runs per transaction: per-run client calls would take minutes (~25 ms each).
    for first in range(0, RUNS, CHUNK):
        with transaction(store) as db:
            for i in range(first, min(first + CHUNK, RUNS)):
                start = t0 + i * 1000
                end = start + rng.randint(100, 60_000)
                rows = RunRows(
                    name=f"run-{i:05d}",
                    start_time=start,
                    end_time=end,
                    status=rng.choice(["FINISHED"] * 8 + ["FAILED", "KILLED"]),
                    params={f"p{k}": str(rng.randint(0, 99)) for k in range(PARAMS)},
                    metrics={f"m{k}": rng.random() for k in range(METRICS)},
                )
                add_run_rows(db, store, experiment_id, artifact_location, rows)
    long_run = client.create_run(
        experiment_id, run_name="long-history", start_time=t0 + RUNS * 1000
    )
    long_id = long_run.info.run_id
    for first in range(0, LONG_POINTS, 1000):  # MLflow's log_batch takes 1,000 metrics a call
        batch = [
            Metric("loss", 1.0 / (1 + s / 1000) + rng.gauss(0, 0.01), t0 + s, s)
            for s in range(first, first + 1000)
        ]
        client.log_batch(long_id, metrics=batch)
    client.set_terminated(long_id, "FINISHED")
    return ws.tracking_uri, experiment_id, long_id


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``fn`` in seconds, after one warm-up call."""
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(root: Path, token: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "jupyter_server",
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        "--ServerApp.jpserver_extensions={'nbstudio': True}",
        f"--ServerApp.root_dir={root}",
    ]
    proc = subprocess.Popen(
        cmd, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy()
    )
    return proc, f"http://127.0.0.1:{port}"


def wait_ready(
    http: object,
    base: str,
    proc: subprocess.Popen,
    path: str = "/nbstudio/api/workspace",
    what: str = "jupyter server",
    seconds: float = 180,
) -> None:
    """Wait until ``base + path`` answers 200 (a loaded machine starts servers slowly)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited during start-up")
        try:
            if http.get(f"{base}{path}").status_code == 200:
                return
        except Exception:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{what} did not answer within {seconds:.0f} s")


def main() -> None:
    import httpx
    from mlflow import MlflowClient

    from nbstudio.tracking import browse, mlflow_private

    with tempfile.TemporaryDirectory(prefix="nbstudio-bench-") as tmp:
        root = Path(tmp)
        (root / "nbstudio.toml").write_text("")
        os.chdir(root)
        started = time.perf_counter()
        uri, experiment_id, long_id = fill_store(root)
        print(
            f"store: {RUNS:,} runs x {PARAMS} params x {METRICS} metrics + one "
            f"{LONG_POINTS:,}-point metric, filled in {time.perf_counter() - started:.1f} s"
        )
        client = MlflowClient(uri)
        store = mlflow_private.tracking_store(client)
        token = secrets.token_hex(16)
        proc, base = start_server(root, token)
        try:
            with httpx.Client(headers={"Authorization": f"token {token}"}, timeout=120) as http:
                wait_ready(http, base, proc)

                def api(path: str, **params: object) -> None:
                    response = http.get(f"{base}/nbstudio/api/{path}", params=params)
                    response.raise_for_status()

                # (d) first load of each section on the cold server, in the panel's order
                first_load = []
                for route in SECTIONS:
                    start = time.perf_counter()
                    api(route)
                    first_load.append((route, time.perf_counter() - start))

                rows = []
                # (a) first page of the 50 newest runs
                mlflow_a = timed(lambda: client.search_runs([experiment_id], max_results=50), 10)
                core_a = timed(lambda: browse.search_runs([experiment_id], page_size=50), 10)
                http_a = timed(lambda: api("runs", experiment_id=experiment_id, page_size=50), 10)
                rows.append(("(a) newest 50 runs", mlflow_a, core_a, http_a, "<= 1.5x MLflow"))
                # (b) filtered on one metric, ordered by another
                flt, order = "metrics.m0 > 0.5", "metrics.m1 DESC"
                mlflow_b = timed(
                    lambda: client.search_runs(
                        [experiment_id], flt, max_results=50, order_by=[order]
                    ),
                    3,
                )
                core_b = timed(
                    lambda: browse.search_runs([experiment_id], flt, [order], page_size=50), 10
                )
                http_b = timed(
                    lambda: api(
                        "runs",
                        experiment_id=experiment_id,
                        filter=flt,
                        order_by=order,
                        page_size=50,
                    ),
                    10,
                )
                rows.append(("(b) m0 > 0.5 by m1 DESC", mlflow_b, core_b, http_b, ">= 10x faster"))
                # (c) 100,000-point history
                mlflow_c = timed(lambda: client.get_metric_history(long_id, "loss"), 3)
                ui_c = timed(
                    lambda: store.get_metric_history_bulk_interval(
                        [long_id], "loss", max_results=2000, start_step=None, end_step=None
                    ),
                    5,
                )
                # First chart of the run (nothing kept yet), then the kept chart of the ended run.
                cold = []
                for points in (1990, 1991, 1992):
                    start = time.perf_counter()
                    browse.metric_history(long_id, "loss", points)
                    cold.append(time.perf_counter() - start)
                first_c = statistics.median(cold)
                core_c = timed(lambda: browse.metric_history(long_id, "loss", 2000), 10)
                http_c = timed(lambda: api(f"runs/{long_id}/metrics/loss", max_points=2000), 10)
                rows.append(("(c) history vs get_metric_history", mlflow_c, core_c, http_c, ""))
                rows.append(("(c) first chart (not kept), core", mlflow_c, first_c, first_c, ""))
                rows.append(("(c) history vs bulk-interval (UI)", ui_c, core_c, http_c, "<= 30 ms"))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(
        f"{'query':36} {'MLflow':>10} {'nbstudio core':>14} {'via HTTP':>10} "
        f"{'MLflow/core':>12} {'MLflow/HTTP':>12}  target"
    )
    for label, theirs, core, http_time, target in rows:
        print(
            f"{label:36} {theirs * 1000:8.1f}ms {core * 1000:12.1f}ms {http_time * 1000:8.1f}ms "
            f"{theirs / core:11.1f}x {theirs / http_time:11.1f}x  {target}"
        )
    print("(ratio = MLflow time / nbstudio time: above 1 means nbstudio is faster)")
    print("\n(d) first load on the cold server, one request after another:")
    for route, took in first_load:
        print(f"    {route:12} {took * 1000:8.1f}ms")
    total = sum(t for _, t in first_load)
    print(f"    {'all':12} {total * 1000:8.1f}ms  (target: sections filled within 1 s)")


if __name__ == "__main__":
    main()
