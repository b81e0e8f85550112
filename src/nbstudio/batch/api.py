"""Batch endpoints as JSON-ready dicts, for the REST API (``GET /nbstudio/api/batch``).

Each dict is the endpoint's record (name, model, compute, mini_batch_size, max_concurrency,
output_action, error_threshold, retries, created) with its latest job (run id, status, input,
rows scored, output) or null. Blocking (files, one MLflow search): call it from a thread.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any


def _last_job(name: str) -> dict[str, Any] | None:
    from nbstudio.batch.commands import jobs

    frame = jobs(name, limit=1)
    if frame.empty:
        return None
    row = frame.iloc[0].to_dict()

    def clean(value: Any) -> Any:
        if isinstance(value, float) and math.isnan(value):
            return None
        return value

    return {
        "run_id": row["run_id"],
        "status": row["status"],
        "input": clean(row.get("input")),
        "rows_scored": clean(row.get("rows_scored")),
        "output": clean(row.get("output")),
    }


def list_endpoints() -> list[dict[str, Any]]:
    from nbstudio.batch.records import records

    recs = records()
    out = []
    for name in recs.names():
        spec = recs.read_spec(name)
        if spec is None:
            continue
        item = asdict(spec)
        item.pop("generation", None)
        item["last_job"] = _last_job(name)
        out.append(item)
    return out
