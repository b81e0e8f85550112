"""Local online endpoints as JSON-ready dicts, for the REST API and the side panel.

Read afresh from the workspace on every call (the endpoint folder and the monitoring file are the
only source of truth), so the panel shows what the kernels and the console did, and works while
an endpoint is stopped. Times are ms since epoch; latencies are ms; rates are requests/second.
"""

from __future__ import annotations

from typing import Any

from nbstudio.endpoints.errors import EndpointError


def list_endpoints() -> list[dict[str, Any]]:
    """Every endpoint of the workspace with its deployments, traffic, health and figures.

    Each endpoint dict::

        {
            "name": "iris",
            "state": "running" | "starting" | "stopped" | "failed",
            "reason": str | None,  # why it failed, if it did
            "url": "http://127.0.0.1:PORT/score" | None,  # scoring URI (POST, Bearer key)
            "port": int | None,
            "pid": int | None,  # pid only while running
            "description": str,
            "created": ms,
            "traffic": {"blue": 90, "green": 10},  # live traffic %, adds up to 100 (or 0)
            "mirror": {"green": 10} | {},  # % of live traffic copied, answer dropped
            "metrics": {
                "requests": int,
                "failures": int,  # all time; failures: status >= 500
                "client_errors": int,  # 4xx: bad payloads, wrong key
                "rate": float,
            },  # req/s over the last minute
            "deployments": [DEPLOYMENT, ...],
        }

    Each deployment dict::

        {
            "name": "blue",
            "model": "iris@champion",  # as deployed; pinned to the version below
            "model_name": "iris",
            "model_version": "3",
            "model_uri": "models:/iris/3",
            "state": "loading"
            | "ready"
            | "restarting"
            | "failed"
            | "draining"
            | "stopped"
            | "pending",
            "traffic": int,
            "mirror": int,  # percentages
            "pid": int | None,  # its worker process
            "error": str | None,  # why it failed or restarted
            "restarts": int,
            "ready_since": ms | None,
            "created": ms,
            "metrics": {
                "requests": int,
                "failures": int,
                "client_errors": int,
                "mirrored": int,  # mirrored copies it answered (all time)
                "rate": float,  # req/s, last minute (mirrored copies included)
                "latency_ms": {"p50": float, "p95": float, "p99": float} | None,
                # over the last 5 minutes
                "last_request": ms | None,
            },  # {} before its first request
            "collect_inputs": float,  # share of requests whose inputs are kept (0: off)
        }
    """
    from nbstudio.endpoints import commands

    recs = commands.records()
    result = []
    for name in recs.names():
        try:
            result.append(commands.info(name, recs).to_dict())
        except EndpointError:
            continue  # deleted while we listed
    return result


def get_endpoint(name: str, window_s: int = 300, points: int = 60) -> dict[str, Any]:
    """One endpoint as in `list_endpoints`, plus what its monitor charts show.

    Adds ``"series"`` (see `nbstudio.endpoints.telemetry.series`: per deployment and time
    bucket, ``rate``, ``failures``, ``p50``, ``p95``, over ``window_s`` seconds in ``points``
    buckets) and ``"exceptions"`` (the last 20, newest first: ``ts``, ``deployment``,
    ``status``, ``type``, ``message``, ``traceback``). Raises `EndpointError` (a
    `nbstudio.errors.NotFoundError`: 404 over HTTP) for an unknown name.
    """
    from nbstudio.endpoints import commands

    data = commands.info(name).to_dict()
    figures = commands.metrics(name, window_s=window_s, points=points)
    data["series"] = figures["series"]
    data["exceptions"] = figures["exceptions"]
    return data
