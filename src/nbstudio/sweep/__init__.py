"""Hyperparameter sweeps with Azure ML sweep-job semantics, on Optuna samplers and MLflow runs.

``nbstudio.sweep(trial, space, goal=...)`` runs a sweep; this package is itself callable, so
``nbstudio.sweep(...)`` works whether ``nbstudio.sweep`` resolves to the function or (once
imported) to this package. Distributions (``choice``, ``loguniform``, ...) and policies are
importable from here for use in Python.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from nbstudio.sweep.errors import PolicyError, SpaceError, SweepError
from nbstudio.sweep.launch import sweep
from nbstudio.sweep.policies import (
    BanditPolicy,
    EarlyTerminationPolicy,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    TruncationSelectionPolicy,
    parse_policy,
)
from nbstudio.sweep.results import BestTrial, Sweep, get_sweep
from nbstudio.sweep.space import (
    choice,
    lognormal,
    loguniform,
    normal,
    parse_distribution,
    qlognormal,
    qloguniform,
    qnormal,
    quniform,
    randint,
    uniform,
)

__all__ = [
    "BanditPolicy",
    "BestTrial",
    "EarlyTerminationPolicy",
    "MedianStoppingPolicy",
    "NoTerminationPolicy",
    "PolicyError",
    "SpaceError",
    "Sweep",
    "SweepError",
    "TruncationSelectionPolicy",
    "choice",
    "get_sweep",
    "lognormal",
    "loguniform",
    "normal",
    "parse_distribution",
    "parse_policy",
    "qlognormal",
    "qloguniform",
    "qnormal",
    "quniform",
    "randint",
    "sweep",
    "uniform",
]


class _CallableModule(types.ModuleType):
    """Lets ``nbstudio.sweep(...)`` call `sweep` after the package has been imported."""

    def __call__(self, *args: Any, **kwargs: Any) -> Sweep:
        return sweep(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
