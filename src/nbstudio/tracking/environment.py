"""What is installed in this Python, captured once per process and reused by every run."""

from __future__ import annotations

import functools
import importlib.metadata


@functools.cache
def installed_versions() -> dict[str, str]:
    """Installed distributions, by normalised name (lower case, ``-`` for ``_``)."""
    versions: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            versions.setdefault(normalise(name), dist.version)
    return versions


def normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


@functools.cache
def requirements_txt() -> str:
    """The environment as a pip requirements file: the run's ``environment/requirements.txt``."""
    lines = [f"{name}=={version}" for name, version in sorted(installed_versions().items())]
    return "\n".join(lines) + "\n"


def pinned(*names: str) -> list[str]:
    """Pins for ``names`` from the captured environment, skipping any not installed."""
    versions = installed_versions()
    return [f"{n}=={versions[normalise(n)]}" for n in names if normalise(n) in versions]
