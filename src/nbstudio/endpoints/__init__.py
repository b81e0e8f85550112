"""Local online endpoints: registered models served over HTTP with blue/green deployments.

Like Azure ML's managed online endpoints, without a cloud: an endpoint is a workspace resource
with a URL on 127.0.0.1, a key, and deployments that share its traffic by weight, each serving one
registered model version in its own process. Requests are recorded for monitoring (request rate,
latency percentiles, failures, exceptions). See `commands` for the operations, `views` for what
they show, `scoring` for invoking from Python, `server` for the endpoint process and `telemetry`
for the figures.

Importing this package is cheap; the names below load on first use.

Example:
    >>> from nbstudio import endpoints
    >>> endpoints.create("iris")  # doctest: +SKIP
    >>> endpoints.deploy("iris", "blue", "iris@champion")  # doctest: +SKIP
    >>> endpoints.invoke("iris", X_test)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "create": "nbstudio.endpoints.commands",
    "deploy": "nbstudio.endpoints.commands",
    "set_traffic": "nbstudio.endpoints.commands",
    "table": "nbstudio.endpoints.commands",
    "show": "nbstudio.endpoints.commands",
    "invoke": "nbstudio.endpoints.scoring",
    "get_key": "nbstudio.endpoints.commands",
    "logs": "nbstudio.endpoints.commands",
    "start": "nbstudio.endpoints.commands",
    "stop": "nbstudio.endpoints.commands",
    "delete": "nbstudio.endpoints.commands",
    "metrics": "nbstudio.endpoints.commands",
    "EndpointInfo": "nbstudio.endpoints.views",
    "EndpointError": "nbstudio.endpoints.errors",
    "ScoringError": "nbstudio.endpoints.errors",
}

_SUBMODULES = {"api", "commands", "records", "telemetry", "routing", "scoring", "views"}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    import importlib

    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"nbstudio.endpoints.{name}")
    raise AttributeError(f"module 'nbstudio.endpoints' has no attribute {name!r}")
