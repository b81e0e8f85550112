"""Tracked runs: the core that `%%mlrun`, sweeps and compute targets all run code through."""

from nbstudio.tracking.result import RunResult
from nbstudio.tracking.run import RunSpec, RunTerminated, TrackedRun, user_traceback

__all__ = ["RunResult", "RunSpec", "RunTerminated", "TrackedRun", "user_traceback"]
