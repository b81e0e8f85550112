"""Live monitor cost: a training loop with and without the monitor, and log -> widget latency.

Runs inside a real IPython kernel (jupyter_client), with this script draining the kernel's
messages like a frontend would, so the monitor's comm messages are really serialized and sent.

- Overhead: a loop doing ~5 ms of numpy work and one ``mlflow.log_metric`` per step for 20 s,
  inside a tracked run, without and with a displayed `LiveMonitor`; overhead = 1 - (steps/s with)
  / (steps/s without). Target: at most 5 %. On a shared machine two separate loops differ by more
  than that from load alone, so the figure that counts comes from two further 20 s loops in which
  the monitor's polling is switched on and off in random order every 1.3 s (paired slices),
  next to a placebo loop (polling off in both halves) that shows the method's noise floor.
- Latency: from ``log_metric`` returning to the point being in the widget's model (after
  `RunMonitor.apply`), over every step of the monitored loops. Target: median at most 1 s.
- Also printed: CPU seconds the monitor's thread used (psutil, per thread), its share of the
  loop's wall time, and comm messages per second (the 4-per-second batching at work).

Usage: ``.venv/bin/python benchmarks/monitor.py [seconds per loop, default 20]``
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from jupyter_client.manager import start_new_kernel

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0

SETUP = """
import json, time, threading, numpy as np, mlflow, psutil
from IPython.display import display
from nbstudio.tracking import RunSpec, TrackedRun
from nbstudio.jupyter.widgets.live import LiveMonitor
from nbstudio.jupyter.widgets.run_monitor import RunMonitor

_t = time.perf_counter()
RunMonitor('warm-up').prepare()
with TrackedRun(RunSpec(name="warm-up", capture_output=False)) as _run:
    _live = LiveMonitor(_run.run_id, freeze_on_end=False)
    display(_live)
    mlflow.log_metric("x", 1.0)
    time.sleep(1.0)
_live.finish()
WARM_UP = time.perf_counter() - _t
rng = np.random.default_rng(0)
X, w = rng.normal(size=(256, 128)), np.zeros(128)
y = X @ rng.normal(size=128)


INNER = 1


def step_work():
    # a training step: INNER gradient steps of least squares (numpy, ~5 ms in all)
    global w
    for _ in range(INNER):
        w -= 1e-5 * X.T @ (X @ w - y)
    return float(np.mean((X @ w - y) ** 2))


_t = time.perf_counter()
for _ in range(200):
    step_work()
INNER = max(1, round(0.005 / ((time.perf_counter() - _t) / 200)))


def bench(monitored, seconds):
    logged, arrived, thread_cpu, polls = {}, {}, 0.0, []
    spec = RunSpec(name=f"bench-{'on' if monitored else 'off'}", capture_output=False)
    with TrackedRun(spec) as run:
        live = None
        if monitored:
            live = LiveMonitor(run.run_id, freeze_on_end=False)
            apply = live.widget.apply

            def timed_apply(changes):
                apply(changes)
                now = time.perf_counter()
                for step, _, _ in changes.metrics.get("loss", []):
                    arrived.setdefault(step, now)

            live.widget.apply = timed_apply
            poll = live.poll

            def timed_poll():
                began = time.perf_counter()
                try:
                    return poll()
                finally:
                    polls.append(time.perf_counter() - began)

            live.poll = timed_poll
            display(live)
        start = time.perf_counter()
        step = 0
        while time.perf_counter() - start < seconds:
            loss = step_work()
            mlflow.log_metric("loss", loss, step=step)
            logged[step] = time.perf_counter()
            step += 1
        wall = time.perf_counter() - start
        flushed = time.perf_counter()
        mlflow.flush_async_logging()
        backlog = time.perf_counter() - flushed
        if live is not None:
            ident = live._thread.native_id
            thread_cpu = sum(
                t.user_time + t.system_time for t in psutil.Process().threads() if t.id == ident
            )
    if live is not None:
        live.finish()
    latencies = sorted(arrived[s] - logged[s] for s in arrived if s in logged)
    return {"steps": step, "wall": wall, "rate": step / wall, "thread_cpu": thread_cpu,
            "latencies": latencies, "arrived": len(arrived), "backlog": backlog, "polls": polls}


def paired(seconds, placebo=False, slice_seconds=1.3):
    # One run with the monitor displayed; its polling is switched on for one slice of each pair
    # and off for the other (random order; 1.3 s slices, not in step with MLflow's 1 s logging
    # buffer), and the step rates of on- and off-slices compared: pairing cancels the machine's
    # load drift. With placebo=True polling stays off in both: the noise floor of the method.
    import random

    order = random.Random(1)
    rates = {True: [], False: []}
    with TrackedRun(RunSpec(name="bench-paired", capture_output=False)) as run:
        live = LiveMonitor(run.run_id, freeze_on_end=False)
        display(live)
        live.stop()
        start, step = time.perf_counter(), 0
        while time.perf_counter() - start < seconds:
            pair = [True, False]
            order.shuffle(pair)
            for on in pair:
                if on and not placebo:
                    live.start()
                else:
                    live.stop()
                first, began = step, time.perf_counter()
                while time.perf_counter() - began < slice_seconds:
                    mlflow.log_metric("loss", step_work(), step=step)
                    step += 1
                rates[on].append((step - first) / (time.perf_counter() - began))
        live.stop()
    live.finish()
    return {"on": rates[True], "off": rates[False]}
"""


def _drain(client, counts: dict[str, int], until_idle_of: str | None, timeout: float) -> str:
    """Read iopub messages (as a frontend would); return stdout text of ``until_idle_of``."""
    out = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = client.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        kind = msg["header"]["msg_type"]
        counts[kind] = counts.get(kind, 0) + 1
        parent = msg["parent_header"].get("msg_id")
        if kind == "stream" and parent == until_idle_of:
            out.append(msg["content"]["text"])
        if kind == "error" and parent == until_idle_of:
            raise RuntimeError("\n".join(msg["content"]["traceback"]))
        idle = kind == "status" and msg["content"]["execution_state"] == "idle"
        if idle and parent == until_idle_of:
            return "".join(out)
    raise TimeoutError("the kernel did not finish in time")


def main() -> None:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    workspace = Path(tempfile.mkdtemp(prefix="nbstudio-bench-monitor-"))
    (workspace / "nbstudio.toml").write_text("")
    manager, client = start_new_kernel(kernel_name="python3", cwd=str(workspace))
    try:
        counts: dict[str, int] = {}
        _drain(client, counts, client.execute(SETUP), timeout=300)
        warm = _drain(client, counts, client.execute("print(WARM_UP)"), timeout=30)
        results: dict[bool, list[dict]] = {False: [], True: []}
        comm_rate = []
        for monitored in (False, True):
            counts = {}
            code = f"print(json.dumps(bench({monitored}, {SECONDS})))"
            text = _drain(client, counts, client.execute(code), timeout=SECONDS * 4 + 120)
            result = json.loads(text)
            results[monitored].append(result)
            if monitored:
                comm_rate.append(counts.get("comm_msg", 0) / result["wall"])
        slices: dict[str, list[float]] = {"on": [], "off": []}
        for _ in range(2):
            code = f"print(json.dumps(paired({SECONDS})))"
            text = _drain(client, {}, client.execute(code), timeout=SECONDS * 4 + 120)
            for key, rates in json.loads(text).items():
                slices[key].extend(rates)
        code = f"print(json.dumps(paired({SECONDS}, placebo=True)))"
        placebo = json.loads(_drain(client, {}, client.execute(code), timeout=SECONDS * 4 + 120))
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
        shutil.rmtree(workspace, ignore_errors=True)

    off = statistics.median(r["rate"] for r in results[False])
    on = statistics.median(r["rate"] for r in results[True])
    overhead = 1 - on / off
    paired_ratio = statistics.fmean(slices["on"]) / statistics.fmean(slices["off"])
    pair_ratios = [a / b for a, b in zip(slices["on"], slices["off"], strict=False)]
    noise = statistics.fmean(placebo["on"]) / statistics.fmean(placebo["off"])
    latencies = sorted(x for r in results[True] for x in r["latencies"])
    median = statistics.median(latencies)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    cpu = sum(r["thread_cpu"] for r in results[True])
    wall = sum(r["wall"] for r in results[True])
    print(f"monitor benchmark: {SECONDS:.0f} s loops, ~5 ms numpy + log_metric per step")
    print(f"  first monitor in a kernel (plotly import, one-time): {float(warm):.2f} s")
    for label, key in (("without monitor", False), ("with monitor   ", True)):
        rates = ", ".join(f"{r['rate']:.1f}" for r in results[key])
        print(f"  {label}: {rates} steps/s ({sum(r['steps'] for r in results[key])} steps)")
    print(
        f"  overhead, separate loops: {overhead * 100:+.1f} % (ratio with/without {on / off:.3f})"
    )
    print(
        f"  overhead, paired 1.3 s slices ({len(pair_ratios)} pairs, polling on/off): "
        f"{(1 - paired_ratio) * 100:+.1f} % (ratio with/without {paired_ratio:.3f}, median pair "
        f"{statistics.median(pair_ratios):.3f}; target <= 5 %)"
    )
    print(
        f"  noise floor, same pairs with polling off in both halves: {(1 - noise) * 100:+.1f} % "
        f"(ratio {noise:.3f})"
    )
    print(
        f"  monitor thread CPU: {cpu:.2f} s over {wall:.0f} s of loop "
        f"({cpu / wall * 100:.1f} % of one core)"
    )
    backlog = ", ".join(f"{r['backlog']:.2f}" for r in results[False] + results[True])
    print(f"  MLflow async-logging backlog at loop end (off, on): {backlog} s")
    polls = sorted(x for r in results[True] for x in r["polls"])
    poll_p95 = polls[int(0.95 * (len(polls) - 1))]
    print(
        f"  a poll (read the store + update the widget): median "
        f"{statistics.median(polls) * 1000:.1f} ms, p95 {poll_p95 * 1000:.1f} ms "
        f"over {len(polls)} polls"
    )
    print(f"  comm messages: {statistics.median(comm_rate):.1f} per second while monitored")
    print(
        f"  latency log_metric -> widget model: median {median * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms over {len(latencies)} points "
        f"(ratio to the 1 s target {median:.2f}; target median <= 1 s)"
    )


if __name__ == "__main__":
    main()
