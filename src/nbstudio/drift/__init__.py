"""Data drift between a model's training data and newer data (scored, collected or a new version).

``nbstudio.drift("wine@champion", current="wine-new@2")`` (`nbstudio.drift.api`); this package is
itself callable, so ``nbstudio.drift(...)`` works whether ``nbstudio.drift`` resolves to the
function or (once imported) to this package. The request figures of online endpoints live with
the endpoints (`nbstudio.endpoints.telemetry`).
"""

from __future__ import annotations

import sys
import types
from typing import Any

from nbstudio.drift.api import DriftResult, drift
from nbstudio.drift.errors import DriftError

__all__ = ["DriftError", "DriftResult", "drift"]


class _CallableModule(types.ModuleType):
    """Lets ``nbstudio.drift(...)`` call `drift` after the package has been imported."""

    def __call__(self, *args: Any, **kwargs: Any) -> DriftResult:
        return drift(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
