"""Local online endpoints as JSON-ready dicts, for the REST API and the side panel.

Filled in by the endpoints issue.
"""

from __future__ import annotations

from typing import Any


def list_endpoints() -> list[dict[str, Any]]:
    """Every endpoint of the workspace with its deployments, traffic and health."""
    return []
