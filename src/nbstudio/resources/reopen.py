"""The restart policy, applied when a process opens the workspace.

Each kind says what happens to a resource whose process died while nobody watched (the machine
rebooted, the process was killed): `NEVER` leaves it failed until the user starts it again (what a
user of a cluster or an endpoint expects: no process appears by itself); `IF_WANTED` starts it
again if its spec still says ``running`` (a schedule must keep firing after a reboot).
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

from nbstudio.resources import state
from nbstudio.resources.kind import IF_WANTED, Kind

log = logging.getLogger(__name__)

# Every kind, by its folder under .nbstudio/: "module:attribute" of its `Kind` and of the command
# that starts one resource by name. Imported only when that folder exists.
KINDS: dict[str, tuple[str, str]] = {
    "compute": ("nbstudio.compute.records:KIND", "nbstudio.compute.targets:start"),
    "endpoints": ("nbstudio.endpoints.records:KIND", "nbstudio.endpoints.commands:start"),
}


def _load(dotted: str) -> object:
    module, attribute = dotted.split(":")
    return getattr(importlib.import_module(module), attribute)


def reopen(data_dir: Path) -> list[str]:
    """Start again the resources whose kind's policy and spec say so; returns ``kind/name``s."""
    restarted = []
    for folder, (kind_path, start_path) in KINDS.items():
        if not (data_dir / folder).is_dir():
            continue
        kind = _load(kind_path)
        assert isinstance(kind, Kind)
        if kind.restart != IF_WANTED:
            continue
        restarted += _restart_wanted(kind, data_dir / folder, _load(start_path))
    return restarted


def _restart_wanted(kind: Kind, folder: Path, start: object) -> list[str]:
    from nbstudio.resources.records import ResourceRecords

    recs: ResourceRecords = ResourceRecords(folder, kind)
    done = []
    for name in recs.names():
        spec = recs.read_spec(name)
        if spec is None or not getattr(spec, "running", False):
            continue
        status = recs.read_status(name)
        recorded = status.state if status is not None else state.STOPPED
        derived = state.derive(
            kind, recorded, getattr(status, "pid", None), getattr(status, "pid_started", None)
        )
        if derived.state in kind.live:
            continue
        try:
            start(name)  # type: ignore[operator]
        except Exception as exc:  # one resource that cannot start must not stop the others
            log.warning("nbstudio: could not restart %s %r: %s", kind.name, name, exc)
            continue
        done.append(f"{kind.name}/{name}")
    return done
