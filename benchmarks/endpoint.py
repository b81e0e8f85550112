"""Benchmark: an nbstudio endpoint against `mlflow models serve` of the same model, in one run.

Both serve the same registered scikit-learn model on 127.0.0.1 (MLflow with ``--env-manager
local``, so neither builds an environment). A bounded local load generator (keep-alive HTTP/1.1
connections on asyncio streams, cheap enough to leave the CPU to the servers; a fixed number of
requests with a fixed number in flight) measures latency p50/p95 and requests per second for
1-row and 1,000-row ``dataframe_split`` requests. The servers take turns (alternating who goes
first), three times each, and each keeps its best run, so a burst of load from elsewhere on a
shared machine does not decide the comparison. Then a blue/green swap under a steady 100
requests/s: green (a retrained model) is deployed while blue serves, traffic moves to green and
blue is deleted, each step with the console command from another process; every request must
succeed.

Run: ``.venv/bin/python benchmarks/endpoint.py`` (about 3 minutes). Prints the figures and the
ratio nbstudio / MLflow (higher rps and lower latency are better).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

from urllib.parse import urlsplit

import httpx
import numpy as np

SMALL_REQUESTS = 1000
ROUNDS = 3
LARGE_REQUESTS = 200
CONCURRENCY = 4
SWAP_RATE = 100  # requests per second
SWAP_SECONDS = 10


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def payload(frame) -> bytes:
    return json.dumps({"dataframe_split": frame.to_dict(orient="split")}).encode()


class Connection:
    """One keep-alive HTTP/1.1 connection sending a fixed POST: a load generator cheap enough
    (a tenth of a millisecond of CPU per request) to leave the 2 cores to the servers."""

    def __init__(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        head = [f"POST {parts.path} HTTP/1.1", f"Host: {parts.netloc}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        head += [f"Content-Length: {len(body)}", "", ""]
        self.request = "\r\n".join(head).encode() + body
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self) -> tuple[int, dict[str, str]]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(self.request)
        status = int((await self.reader.readline()).split()[1])
        headers = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            key, _, value = line.decode().partition(":")
            headers[key.strip().lower()] = value.strip()
        await self.reader.readexactly(int(headers.get("content-length", 0)))
        return status, headers

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def load(url: str, body: bytes, headers: dict, requests: int, concurrency: int) -> dict:
    """Send ``requests`` requests, ``concurrency`` at a time; latency percentiles and rps."""
    latencies: list[float] = []
    failures = 0
    queue = iter(range(requests))
    connections = [Connection(url, body, headers) for _ in range(concurrency)]

    async def one_by_one(connection: Connection) -> None:
        nonlocal failures
        for _ in queue:
            started = time.perf_counter()
            status, _ = await connection.post()
            latencies.append((time.perf_counter() - started) * 1000)
            failures += status != 200

    for connection in connections:  # warm up connections and caches
        for _ in range(5):
            await connection.post()
    started = time.perf_counter()
    await asyncio.gather(*(one_by_one(c) for c in connections))
    elapsed = time.perf_counter() - started
    for connection in connections:
        connection.close()
    p50, p95 = np.percentile(latencies, [50, 95])
    return {"p50": p50, "p95": p95, "rps": requests / elapsed, "failures": failures}


async def steady(url: str, body: bytes, headers: dict, rate: int, seconds: float, during) -> dict:
    """Open-loop load at ``rate`` requests/s (each on a free connection of a pool) while
    ``during()`` runs in a thread; every answer's status and deployment is kept."""
    results: list[tuple[int, str | None]] = []
    latencies: list[float] = []
    idle = [Connection(url, body, headers) for _ in range(32)]

    async def one() -> None:
        connection = idle.pop() if idle else Connection(url, body, headers)
        try:
            started = time.perf_counter()
            status, answer = await connection.post()
            latencies.append((time.perf_counter() - started) * 1000)
            results.append((status, answer.get("nbstudio-deployment")))
            idle.append(connection)
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            results.append((0, type(exc).__name__))
            connection.close()

    tasks = []
    action = asyncio.ensure_future(asyncio.to_thread(during))
    started = time.perf_counter()
    n = 0
    while time.perf_counter() - started < seconds or not action.done():
        target = started + n / rate
        await asyncio.sleep(max(0.0, target - time.perf_counter()))
        tasks.append(asyncio.ensure_future(one()))
        n += 1
    await asyncio.gather(*tasks)
    await action
    elapsed = time.perf_counter() - started
    for connection in idle:
        connection.close()
    failed = [r for r in results if r[0] != 200]
    served: dict[str | None, int] = {}
    for _status, deployment in results:
        served[deployment] = served.get(deployment, 0) + 1
    statuses = Counter(status for status, _ in results)
    return {
        "sent": n,
        "failed": len(failed),
        "rate": n / elapsed,
        "by_deployment": served,
        "statuses": dict(statuses),
        "p50": float(np.percentile(latencies, 50)),
        "p95": float(np.percentile(latencies, 95)),
    }


def wait_http(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="nbstudio-bench-endpoint-"))
    (workdir / "nbstudio.toml").write_text("")
    os.chdir(workdir)

    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    import nbstudio
    from nbstudio import endpoints

    frame, target = load_iris(return_X_y=True, as_frame=True)
    blue_model = LogisticRegression(max_iter=500).fit(frame, target)
    green_model = LogisticRegression(max_iter=500, C=0.5).fit(frame, target)
    nbstudio.register_model(blue_model, "iris", aliases=["blue"], input_example=frame.head(3))
    nbstudio.register_model(green_model, "iris", aliases=["green"], input_example=frame.head(3))
    tracking_uri = nbstudio.get_session().workspace.tracking_uri

    port = free_port()
    bindir = str(Path(sys.executable).parent)  # `mlflow models serve` runs `uvicorn` from PATH
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": tracking_uri,
        "PATH": bindir + os.pathsep + os.environ.get("PATH", ""),
    }
    mlflow_cmd = [
        str(Path(bindir) / "mlflow"),
        "models",
        "serve",
        "-m",
        "models:/iris@blue",
        "--env-manager",
        "local",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
    ]
    mlflow_proc = subprocess.Popen(
        mlflow_cmd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        endpoints.create("bench")
        endpoints.deploy("bench", "blue", "iris@blue")
        url, key = endpoints.commands.scoring_target("bench")
        wait_http(f"http://127.0.0.1:{port}/ping")
        servers = {
            "mlflow": (f"http://127.0.0.1:{port}/invocations", {}),
            "nbstudio": (url, {"Authorization": f"Bearer {key}"}),
        }
        rows = np.tile(frame.to_numpy(), (7, 1))[:1000]
        large = frame.__class__(rows, columns=frame.columns)
        scenarios = {
            "1 row": (payload(frame.head(1)), SMALL_REQUESTS),
            "1,000 rows": (payload(large), LARGE_REQUESTS),
        }
        results: dict[tuple[str, str], dict] = {}
        for scenario, (body, count) in scenarios.items():
            for round_ in range(ROUNDS):
                order = list(servers.items())
                for server, (server_url, auth) in order if round_ % 2 == 0 else order[::-1]:
                    headers = {"Content-Type": "application/json", **auth}
                    run = asyncio.run(load(server_url, body, headers, count, CONCURRENCY))
                    best = results.get((scenario, server))
                    if best is None or run["rps"] > best["rps"]:
                        results[scenario, server] = run

        print(
            f"\nLatency and throughput, {CONCURRENCY} requests in flight "
            f"(best of {ROUNDS} runs each)"
        )
        print(f"{'scenario':<12}{'server':<10}{'p50 ms':>9}{'p95 ms':>9}{'req/s':>9}{'fail':>6}")
        for (scenario, server), r in results.items():
            print(
                f"{scenario:<12}{server:<10}{r['p50']:>9.2f}{r['p95']:>9.2f}{r['rps']:>9.1f}"
                f"{r['failures']:>6}"
            )
        print("\nRatio nbstudio / mlflow models serve (rps: >1 is faster; latency: <1 is faster)")
        for scenario in scenarios:
            ours, theirs = results[scenario, "nbstudio"], results[scenario, "mlflow"]
            print(
                f"{scenario:<12} rps x{ours['rps'] / theirs['rps']:.2f}   "
                f"p50 x{ours['p50'] / theirs['p50']:.2f}   p95 x{ours['p95'] / theirs['p95']:.2f}"
            )

        def swap() -> None:
            # From another process (the console command), so that its imports and polling do
            # not slow this load generator down: the swap an operator would type in a terminal.
            steps = [
                ["deploy", "bench", "green", "iris@green", "--traffic", "0"],
                ["traffic", "bench", "blue=50", "green=50"],
                ["traffic", "bench", "green=100"],
                ["delete", "bench", "blue"],
            ]
            time.sleep(1.0)
            for step in steps:
                subprocess.run(
                    [sys.executable, "-m", "nbstudio.cli", "endpoint", *step],
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
                time.sleep(1.0)

        body = payload(frame.head(1))
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
        started = time.perf_counter()
        swap_result = asyncio.run(steady(url, body, headers, SWAP_RATE, SWAP_SECONDS, swap))
        print(
            f"\nBlue/green swap under {SWAP_RATE} req/s for {time.perf_counter() - started:.1f} s:"
            f" sent {swap_result['sent']} at {swap_result['rate']:.1f} req/s,"
            f" failed {swap_result['failed']}, answered by {swap_result['by_deployment']},"
            f" statuses {swap_result['statuses']}, latency p50 {swap_result['p50']:.1f} ms"
            f" p95 {swap_result['p95']:.1f} ms"
        )
        monitored = endpoints.show("bench")
        print(monitored)
        assert swap_result["failed"] == 0, "requests failed during the swap"
        print(
            "\nTarget: at least as fast as mlflow models serve: "
            + (
                "met"
                if all(
                    results[s, "nbstudio"]["rps"] >= results[s, "mlflow"]["rps"] for s in scenarios
                )
                else "NOT met"
            )
        )
        print("Swap dropped nothing:", "yes" if swap_result["failed"] == 0 else "NO")
    finally:
        try:
            endpoints.delete("bench")
        finally:
            os.killpg(mlflow_proc.pid, 15)
            mlflow_proc.wait(30)
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
