"""Sampling algorithms (Azure ML's names) as Optuna samplers used through ask-and-tell.

- ``grid``: every combination of ``choice`` values (`optuna.samplers.GridSampler`).
- ``random``: `optuna.samplers.RandomSampler`.
- ``sobol``: scrambled Sobol sequence (`optuna.samplers.QMCSampler`); the seed picks the
  scrambling, so the same seed gives the same points.
- ``bayesian``: Tree-structured Parzen Estimator (`optuna.samplers.TPESampler`), with the
  "constant liar" for concurrent trials so that they do not all explore the same point.

Seeds: a sweep always has one (a random one is drawn and recorded when none is given), so any
sweep can be replayed. When a sweep is resumed, samplers that draw from a random generator are
seeded with ``seed + trials so far``, so they do not propose again the points of the first run.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import optuna

from nbstudio.sweep.errors import SweepError
from nbstudio.sweep.space import Choice, Distribution

SAMPLINGS = ("grid", "random", "sobol", "bayesian")
_ALIASES = {"tpe": "bayesian", "qmc": "sobol"}


def check_sampling(sampling: str) -> str:
    key = _ALIASES.get(sampling.lower(), sampling.lower())
    if key not in SAMPLINGS:
        raise SweepError(f"unknown sampling {sampling!r}; use one of {', '.join(SAMPLINGS)}")
    return key


def grid_size(space: Mapping[str, Distribution]) -> int:
    """The number of combinations of a grid space; an error if a parameter is not a choice."""
    for name, dist in space.items():
        if not isinstance(dist, Choice):
            raise SweepError(
                f"grid sampling needs choice(...) for every parameter; {name} is {dist}. "
                "Use random, sobol or bayesian sampling, or list the values with choice(...)"
            )
    return math.prod(len(d.values) for d in space.values())


class _AskTellGridSampler(optuna.samplers.GridSampler):
    """GridSampler without its ``study.stop()`` when the grid is exhausted.

    That call is only allowed inside ``study.optimize`` and raises under ask-and-tell; the sweep
    controller caps the number of trials at the grid size itself.
    """

    def after_trial(self, *args: Any, **kwargs: Any) -> None:
        return None


def make_sampler(
    sampling: str,
    space: Mapping[str, Distribution],
    seed: int,
    *,
    concurrent: bool = False,
    trials_so_far: int = 0,
) -> optuna.samplers.BaseSampler:
    """The Optuna sampler for ``sampling`` over ``space`` (raw values, see `space`)."""
    sampling = check_sampling(sampling)
    if sampling == "grid":
        grid_size(space)
        grid = {name: list(range(len(dist.values))) for name, dist in space.items()}  # type: ignore[attr-defined]
        return _AskTellGridSampler(grid, seed=seed)
    if sampling == "sobol":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.QMCSampler(
                qmc_type="sobol",
                scramble=True,
                seed=seed,
                independent_sampler=optuna.samplers.RandomSampler(seed=seed + trials_so_far),
                warn_asynchronous_seeding=False,
                warn_independent_sampling=False,
            )
    if sampling == "random":
        return optuna.samplers.RandomSampler(seed=seed + trials_so_far)
    return optuna.samplers.TPESampler(
        seed=seed + trials_so_far,
        constant_liar=concurrent,
        n_startup_trials=10,
        multivariate=True,
    )
