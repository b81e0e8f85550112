"""The sweep errors a user can fix: a bad search space, policy, goal or limit."""

from __future__ import annotations

from nbstudio.errors import NbstudioError


class SweepError(NbstudioError):
    """A sweep cannot be started, resumed or read (bad settings, unknown parent run)."""


class SpaceError(SweepError):
    """A search-space expression or distribution is not valid."""


class PolicyError(SweepError):
    """An early-termination policy expression is not valid."""
