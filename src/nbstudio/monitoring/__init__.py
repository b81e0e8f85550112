"""Monitoring deployed models: data drift between a model's training data and newer data.

``nbstudio.drift("wine@champion", current="wine-new@2")`` (`nbstudio.monitoring.drift`); the
request figures of online endpoints live with the endpoints (`nbstudio.endpoints.monitoring`).
"""

from __future__ import annotations

from nbstudio.monitoring.drift import DriftResult, drift
from nbstudio.monitoring.errors import DriftError

__all__ = ["DriftError", "DriftResult", "drift"]
