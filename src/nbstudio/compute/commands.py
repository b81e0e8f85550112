"""The compute commands every front end calls: ``%compute``, ``nbstudio compute`` and the REST API.

One dispatcher (`run`) and one set of defaults (`DEFAULTS`): the magic and the console command
parse their arguments, leaving out what the user did not give (None), and call `run` with the
verb; the REST API calls `act`, which checks a request body and calls `run`. So a default or a
rule changes in one place for every front end.

Example:
    >>> from nbstudio.compute import commands
    >>> commands.run("create", "cpu", max_nodes=4)  # doctest: +SKIP
    >>> commands.run("scale", "cpu", nodes=2)  # doctest: +SKIP
    >>> commands.act("cpu", "stop", {})["state"]  # doctest: +SKIP
    'stopped'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nbstudio.compute.errors import ComputeError

VERBS = ("list", "create", "attach", "show", "start", "stop", "scale", "delete")
# What the side panel's buttons may ask over REST.
ACTIONS = ("start", "stop", "scale", "delete")

# A new cluster's size and policy when the user says nothing else.
DEFAULTS: dict[str, Any] = {
    "min_nodes": 0,
    "max_nodes": 2,
    "threads_per_node": 1,
    "memory_per_node": "4GB",
    "idle_seconds": 120.0,
}

Progress = Callable[[str], None]


def run(
    verb: str,
    name: str | None = None,
    *,
    address: str | None = None,
    nodes: int | None = None,
    min_nodes: int | None = None,
    max_nodes: int | None = None,
    threads_per_node: int | None = None,
    memory_per_node: str | int | None = None,
    idle_seconds: float | None = None,
    wait: bool = True,
    progress: Progress | None = None,
) -> Any:
    """Do ``verb`` and return what it yields: a list of targets (``list``), else the target.

    ``delete`` returns the target as it was, state ``stopped``. ``wait=False`` makes ``scale``
    return at once (the nodes then join) and ``create``/``start`` return while starting.
    """
    from nbstudio.compute import targets

    if verb not in VERBS:
        raise ComputeError(f"Unknown command {verb!r}: use one of {', '.join(VERBS)}.")
    if verb == "list":
        return targets.list_targets()
    if not name:
        raise ComputeError(f"{verb} needs the name of a compute target, e.g. {verb} cpu.")
    match verb:
        case "show":
            return targets.get(name)
        case "create":
            given = {
                "min_nodes": min_nodes,
                "max_nodes": max_nodes,
                "threads_per_node": threads_per_node,
                "memory_per_node": memory_per_node,
                "idle_seconds": idle_seconds,
            }
            size = {k: DEFAULTS[k] if v is None else v for k, v in given.items()}
            return targets.create(name, wait=wait, progress=progress, **size)
        case "attach":
            if not address:
                raise ComputeError("attach NAME ADDRESS, e.g. tcp://10.0.0.5:8786")
            return targets.attach(name, address)
        case "start":
            return targets.start(name, wait=wait, progress=progress)
        case "stop":
            return targets.stop(name, progress=progress)
        case "scale":
            return targets.scale(
                name,
                nodes=nodes,
                min_nodes=min_nodes,
                max_nodes=max_nodes,
                wait=wait,
                progress=progress,
            )
    before = targets.get(name)
    targets.delete(name, progress=progress)
    before.state = "stopped"
    return before


def act(name: str, action: str, params: dict[str, Any]) -> dict[str, Any]:
    """A panel action (REST): ``action`` on target ``name`` with a request body, as a dict.

    ``start`` waits until the cluster runs; ``stop`` until its processes are gone; ``scale``
    takes ``nodes`` (bring it to that many nodes now) and/or ``min_nodes``/``max_nodes`` (new
    autoscale bounds) and returns at once; ``delete`` returns the target as it was, state
    ``stopped`` and no actions. Errors: `UnknownTargetError` (404), `ComputeConflictError`
    (409), any other `ComputeError` (400).
    """
    if action not in ACTIONS:
        raise ComputeError(f"Unknown action {action!r}: use one of {', '.join(ACTIONS)}.")
    params = dict(params)
    counts: dict[str, int] = {}
    if action == "scale":
        for key in ("nodes", "min_nodes", "max_nodes"):
            value = params.pop(key, None)
            if value is not None:
                if not isinstance(value, int) or isinstance(value, bool):
                    raise ComputeError(f"{key} must be a whole number, not {value!r}.")
                counts[key] = value
        if params:
            raise ComputeError(f"scale takes nodes, min_nodes, max_nodes; not {sorted(params)}.")
    elif params:
        raise ComputeError(f"{action} takes no parameters (got {sorted(params)}).")
    target = run(action, name, wait=action != "scale", **counts)
    data = target.to_dict()
    if action == "delete":
        data["actions"] = []
    return data
