"""Sweeps as JSON-ready dicts, for the REST API and the side panel.

Filled in by the sweeps issue.
"""

from __future__ import annotations

from typing import Any


def list_sweeps() -> list[dict[str, Any]]:
    """Every sweep (parent run tagged ``nbstudio.sweep=true``) with progress and best value."""
    return []
