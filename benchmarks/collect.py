"""Benchmark: what collecting an endpoint's inputs costs a request (issue 17, data collector).

One endpoint serves the same model as two deployments: ``off`` (``collect_inputs`` 0, the
baseline) and ``on`` (rate 1: every request's input copied, buffered and written as Parquet by the
worker's background thread, here every second). The load generator of `benchmarks/endpoint.py`
sends 1-row and 1,000-row ``dataframe_split`` requests to each (``nbstudio-deployment`` header),
taking turns three times; each keeps its best run. Prints p50/p95 latency and requests per second
side by side, and the rows the collector wrote.

Run: ``.venv/bin/python benchmarks/collect.py`` (about a minute).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _shell import fresh_workspace
from endpoint import CONCURRENCY, load, payload

REQUESTS = {1: 1000, 1000: 200}
ROUNDS = 3


def main() -> None:
    fresh_workspace()
    os.environ["NBSTUDIO_COLLECT_FLUSH_SECONDS"] = "1"
    import pandas as pd
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    import nbstudio
    from nbstudio import endpoints
    from nbstudio.endpoints import commands

    X, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=500).fit(X, y)
    nbstudio.register_model(model, "iris", aliases=["champion"], input_example=X.head(3))
    endpoints.create("bench")
    try:
        endpoints.deploy("bench", "off", "iris@champion")
        endpoints.deploy("bench", "on", "iris@champion", collect_inputs=1)
        url = endpoints.show("bench").url
        key = endpoints.get_key("bench")
        print("deployment  rows/request   p50 ms   p95 ms      rps")
        for rows, count in REQUESTS.items():
            body = payload(pd.concat([X] * (rows // len(X) + 1)).head(rows))
            best: dict[str, dict] = {}
            for round_ in range(ROUNDS):
                order = ("off", "on") if round_ % 2 == 0 else ("on", "off")
                for name in order:
                    headers = {
                        "Authorization": f"Bearer {key}",
                        "Content-Type": "application/json",
                        "nbstudio-deployment": name,
                    }
                    result = asyncio.run(load(url, body, headers, count, CONCURRENCY))
                    assert result["failures"] == 0, result
                    if name not in best or result["p50"] < best[name]["p50"]:
                        best[name] = result
            for name in ("off", "on"):
                r = best[name]
                print(f"{name:>10}  {rows:>12}  {r['p50']:7.2f}  {r['p95']:7.2f}  {r['rps']:7.0f}")
            ratio = best["on"]["p50"] / best["off"]["p50"]
            print(f"  collecting / not collecting, p50 at {rows} row(s): {ratio:.2f}x")
        endpoints.stop("bench")  # a graceful stop writes what the collector still holds
        folder = commands.records().collected_dir("bench", "on")
        written = sum(len(pd.read_parquet(f)) for f in folder.glob("*/*.parquet"))
        files = len(list(folder.glob("*/*.parquet")))
        print(f"collector wrote {written} rows in {files} Parquet files")
    finally:
        endpoints.delete("bench")


if __name__ == "__main__":
    main()
