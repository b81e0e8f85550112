"""The panel's full refresh against an MLflow tracking server, as the number of runs grows.

Issue 13 §3: the experiment list paged through every run of every experiment on each refresh, and
the sweep list read all trials of every sweep. This benchmark fills an SQLite store with N runs in
20 experiments, including sweeps of 20 trials each (written in bulk, as SqlAlchemyStore writes
them), starts ``mlflow server`` on it and a ``jupyter server`` with nbstudio pointed at that
server, and times the panel's full refresh through the REST API: its eight routes (experiments,
compute, sweeps, pipelines, models, endpoints, batch endpoints, data assets) asked at once, as the
panel asks them (the time until the last answer), and one after another (their sum). Same run,
for comparison:

- today's code path before this change (``legacy``): the experiment counts paged from every run and
  every sweep's trials read on each refresh, called in-process against the same server;
- the new code path in-process, to compare like with like;
- the same HTTP refresh on the embedded store (SQLite read by the SQL reader).

Targets: at most 300 ms per refresh on the server, and at most 2x growth from 1,000 to 10,000
runs. Run: ``.venv/bin/python benchmarks/panel_server.py``.
"""

from __future__ import annotations

import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
sys.path.insert(0, str(Path(__file__).parent))

from panel_api import free_port, start_server, wait_ready

EXPERIMENTS = 20
TRIALS = 20
# The routes of the panel's refresh (labextension/src/model.ts `refresh`), asked all at once.
ROUTES = (
    "experiments",
    "compute",
    "sweeps",
    "pipelines",
    "models",
    "endpoints",
    "batch",
    "data",
)
SIZES = ((1_000, 5), (10_000, 50))  # (runs, sweeps)


def fill(db_uri: str, artifacts: Path, runs: int, sweeps: int) -> None:
    """``runs`` runs in EXPERIMENTS experiments, ``sweeps`` of them sweep parents with TRIALS
    trials each (two sweeps still running), written in bulk through MLflow's ORM models."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    from nbstudio.sweep.settings import SweepSettings
    from nbstudio.sweep.space import parse_distribution
    from nbstudio.tracking.bulk import RunRows, add_run_rows, transaction

    store = SqlAlchemyStore(db_uri, artifacts.as_uri())
    experiment_ids = [store.create_experiment(f"exp-{k:02d}") for k in range(EXPERIMENTS)]
    settings = SweepSettings.create(
        metric="acc",
        goal="maximize",
        space={"C": parse_distribution("loguniform(0.001, 100)")},
        max_total_trials=TRIALS,
        seed=1,
    )
    sweep_tags = {**settings.to_tags(), **settings.limit_tags()}
    rng = random.Random(5)
    t0 = 1_700_000_000_000
    count = 0

    def add(db, experiment_id, name, status, tags, metric) -> str:
        nonlocal count
        start = t0 + count * 1000
        count += 1
        rows = RunRows(
            name=name,
            start_time=start,
            end_time=None if status == "RUNNING" else start + 500,
            status=status,
            tags=tags,
            params={"C": repr(rng.random())},
            metrics={metric: rng.random()},
        )
        return add_run_rows(db, store, experiment_id, artifacts.as_uri(), rows)

    plain = runs - sweeps * (TRIALS + 1)
    with transaction(store) as db:
        for i in range(plain):
            add(db, experiment_ids[i % EXPERIMENTS], f"run-{i:05d}", "FINISHED", {}, "loss")
        for s in range(sweeps):
            running = s >= sweeps - 2
            experiment_id = experiment_ids[s % EXPERIMENTS]
            parent = add(
                db, experiment_id, f"sweep-{s:02d}", "RUNNING" if running else "FINISHED",
                sweep_tags, "acc",
            )  # fmt: skip
            for t in range(TRIALS):
                status = "RUNNING" if running and t >= TRIALS - 2 else "FINISHED"
                tags = {"mlflow.parentRunId": parent, "nbstudio.trial": str(t)}
                add(db, experiment_id, f"sweep-{s:02d}-{t:02d}", status, tags, "acc")
    store.engine.dispose()


def start_mlflow(db_uri: str, artifacts: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "mlflow"),
            "server",
            "--backend-store-uri",
            db_uri,
            "--default-artifact-root",
            str(artifacts),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, f"http://127.0.0.1:{port}"


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(first call, median of ``repeat`` later calls), in seconds."""
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return first, statistics.median(samples)


def http_refresh(http, base: str) -> Callable[[], None]:
    """The routes one after another (the sum of their times)."""

    def refresh() -> None:
        for route in ROUTES:
            http.get(f"{base}/nbstudio/api/{route}").raise_for_status()

    return refresh


def panel_refresh(base: str, token: str) -> Callable[[], None]:
    """The routes at once, as the panel asks them (the time until the last answer)."""
    import asyncio

    import httpx

    async def all_routes() -> None:
        headers = {"Authorization": f"token {token}"}
        async with httpx.AsyncClient(headers=headers, timeout=300) as http:
            answers = await asyncio.gather(
                *(http.get(f"{base}/nbstudio/api/{route}") for route in ROUTES)
            )
        for answer in answers:
            answer.raise_for_status()

    return lambda: asyncio.run(all_routes())


def in_process(root: Path, legacy: bool) -> Callable[[], None]:
    """The refresh's two run-reading routes in this process, today's code or the old one."""
    from mlflow.entities import ViewType

    from nbstudio.session import reset_session
    from nbstudio.sweep import api as sweep_api
    from nbstudio.tracking import browse, readers
    from nbstudio.tracking.clientreader import ClientReader
    from nbstudio.tracking.run_records import ExperimentStats

    class LegacyReader(ClientReader):
        """Before §3: every run of every experiment paged on each refresh."""

        def experiment_stats(self) -> dict[str, ExperimentStats]:
            stats: dict[str, ExperimentStats] = {}
            for experiment in browse._active_experiments(self.client):
                count, last, token = 0, None, None
                while True:
                    page = self.client.search_runs(
                        [experiment.experiment_id], "", ViewType.ACTIVE_ONLY, 1000, page_token=token
                    )
                    for run in page:
                        count += 1
                        for t in (run.info.start_time, run.info.end_time):
                            if t is not None and (last is None or t > last):
                                last = t
                    token = page.token
                    if not token:
                        break
                stats[str(experiment.experiment_id)] = ExperimentStats(count, last)
            return stats

    session = reset_session(root)
    if legacy:
        readers.use(session, LegacyReader(session.client()))

    def refresh() -> None:
        if legacy:
            sweep_api._ended.clear()  # before §3 every sweep's trials were read each time
        browse.list_experiments(session)
        sweep_api.list_sweeps(session=session)

    return refresh


def measure(runs: int, sweeps: int, tmp: Path) -> dict[str, tuple[float, float]]:
    import httpx

    db = tmp / f"store-{runs}.db"
    artifacts = tmp / f"artifacts-{runs}"
    db_uri = f"sqlite:///{db}"
    started = time.perf_counter()
    fill(db_uri, artifacts, runs, sweeps)
    took = time.perf_counter() - started
    print(f"{runs:,} runs ({sweeps} sweeps of {TRIALS}) written in {took:.1f} s")
    figures: dict[str, tuple[float, float]] = {}
    mlflow_proc, mlflow_uri = start_mlflow(db_uri, artifacts)
    procs = [mlflow_proc]
    try:
        with httpx.Client(timeout=300) as plain:
            wait_ready(plain, mlflow_uri, mlflow_proc, path="/health", what="mlflow server")
        for label, uri in (("server", mlflow_uri), ("embedded", db_uri)):
            root = tmp / f"ws-{label}-{runs}"
            root.mkdir()
            (root / "nbstudio.toml").write_text(f'tracking_uri = "{uri}"\n')
            token = secrets.token_hex(16)
            proc, base = start_server(root, token)
            procs.append(proc)
            with httpx.Client(headers={"Authorization": f"token {token}"}, timeout=300) as http:
                wait_ready(http, base, proc)
                figures[f"HTTP, {label}"] = timed(panel_refresh(base, token), 10)
                figures[f"HTTP one by one, {label}"] = timed(http_refresh(http, base), 5)
            if label == "server":
                os.chdir(root)
                figures["in-process, server"] = timed(in_process(root, legacy=False), 5)
                figures["in-process, server, legacy"] = timed(in_process(root, legacy=True), 3)
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(timeout=60)
    return figures


def main() -> None:
    results = {}
    with tempfile.TemporaryDirectory(prefix="nbstudio-bench-server-") as tmp:
        for runs, sweeps in SIZES:
            results[runs] = measure(runs, sweeps, Path(tmp))
    small, large = (results[n] for n, _ in SIZES)
    print(f"\n{f'full refresh ({len(ROUTES)} routes)':34} {'runs':>7} {'first':>10} {'median':>10}")
    for runs, _ in SIZES:
        for label, (first, median) in results[runs].items():
            print(f"{label:34} {runs:7,} {first * 1000:8.0f}ms {median * 1000:8.0f}ms")
    growth = large["HTTP, server"][1] / small["HTTP, server"][1]
    legacy = large["in-process, server, legacy"][1] / large["in-process, server"][1]
    print(
        f"\nserver refresh at 10,000 runs: {large['HTTP, server'][1] * 1000:.0f} ms (target <= 300)"
        f"; growth 1,000 -> 10,000 runs: {growth:.2f}x (target <= 2x); legacy/new in-process: "
        f"{legacy:.1f}x"
    )


if __name__ == "__main__":
    main()
