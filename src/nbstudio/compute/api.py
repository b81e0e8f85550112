"""Compute targets as JSON-ready dicts, for the REST API and the side panel.

Filled in by the compute issue; until then only ``local`` exists.
"""

from __future__ import annotations

from typing import Any


def list_targets() -> list[dict[str, Any]]:
    """Every compute target of the workspace, JSON-ready."""
    return []
