"""Compute targets as JSON-ready dicts, for the REST API and the side panel.

``GET /nbstudio/api/compute`` answers ``{"targets": list_targets()}``; ``POST
/nbstudio/api/compute/<name>/<action>`` answers `nbstudio.compute.commands.act` (name, action,
body). Both block (reading files, at most a short RPC to a scheduler): call them from a thread, not
the server's event loop.

A target dict has these fields (``null`` where they do not apply):

==================  ==========================================================================
name                ``local``, or the name given at create/attach
kind                ``local`` (the kernel), ``cluster`` (managed Dask cluster), ``attached``
                    (a Dask scheduler nbstudio does not manage)
state               ``creating`` | ``running`` | ``stopping`` | ``stopped`` | ``failed``
reason              why it failed (one line), else null
address             the Dask scheduler address, e.g. ``tcp://127.0.0.1:40123``
dashboard_link      the Dask dashboard URL (http://127.0.0.1:PORT/status), else null
min_nodes           autoscale lower bound (cluster), else null
max_nodes           autoscale upper bound (cluster), else null
threads_per_node    task slots per node (cluster)
memory_per_node     bytes per node (cluster)
idle_seconds        idle nodes above min_nodes are released after this long (cluster)
nodes               Dask workers connected now (``local``: 1)
starting_nodes      workers asked for that have not joined yet
busy_nodes          nodes running at least one task
idle_nodes          nodes running none
cores               threads over all connected nodes
memory              bytes over all connected nodes
tasks               tasks (cells, trials) running now
queued              tasks waiting for a node
pid                 the managed cluster's background process (``local``: the server's own)
created             ms since the epoch
updated             ms since the epoch of the last status change
actions             what can be done now: subset of ``start``, ``stop``, ``scale``, ``delete``
==================  ==========================================================================
"""

from __future__ import annotations

from typing import Any


def list_targets() -> list[dict[str, Any]]:
    """Every compute target of the workspace, ``local`` first, JSON-ready."""
    from nbstudio.compute.targets import list_targets as targets

    return [t.to_dict() for t in targets()]


def get_target(name: str) -> dict[str, Any]:
    """One target as a dict; `UnknownTargetError` (a 404) if there is none by that name."""
    from nbstudio.compute.targets import get

    return get(name).to_dict()
