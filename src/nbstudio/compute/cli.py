"""``nbstudio compute``: compute targets from a terminal, like ``az ml compute``.

Same verbs and options as ``%compute`` in a notebook; ``--json`` prints the target dicts of the
REST API instead of a table. Run it anywhere inside the workspace folder.
"""

from __future__ import annotations

import argparse
import json
import sys

HELP = "Create, list, start, stop, scale and delete compute targets (Dask clusters)."


def configure(parser: argparse.ArgumentParser) -> None:
    from nbstudio.cli import verb_adder
    from nbstudio.compute.commands import DEFAULTS

    verb = verb_adder(parser, run, "The compute target.")

    verb("list", "List the targets with state, nodes, cores, memory and tasks.", needs_name=False)
    create = verb("create", "Create a managed Dask cluster and start it.")
    create.add_argument("--min-nodes", type=int, help=f"Fewest nodes ({DEFAULTS['min_nodes']}).")
    create.add_argument("--max-nodes", type=int, help=f"Most nodes ({DEFAULTS['max_nodes']}).")
    create.add_argument("--threads-per-node", type=int, help="Task slots per node (1).")
    create.add_argument(
        "--memory-per-node", help=f"Memory per node ({DEFAULTS['memory_per_node']})."
    )
    create.add_argument(
        "--idle-seconds",
        type=float,
        help=f"Release nodes idle this long ({DEFAULTS['idle_seconds']:g}).",
    )
    attach = verb("attach", "Record an existing Dask scheduler as a target.")
    attach.add_argument("address", help="The scheduler's address, e.g. tcp://10.0.0.5:8786.")
    verb("show", "Show one target.")
    verb("start", "Start a stopped cluster.")
    verb("stop", "Stop a cluster: its nodes and its process end.")
    scale = verb("scale", "Bring a cluster to N nodes now and/or change its autoscale bounds.")
    scale.add_argument("nodes", type=int, nargs="?", help="Nodes to have now.")
    scale.add_argument("--min-nodes", type=int, help="New lower bound.")
    scale.add_argument("--max-nodes", type=int, help="New upper bound.")
    verb("delete", "Forget a target (a cluster is stopped first).")


def run(args: argparse.Namespace) -> int:
    from nbstudio.compute import commands
    from nbstudio.compute.display import ProgressLine, TargetTable

    options = {
        key: getattr(args, key, None)
        for key in (
            "address",
            "nodes",
            "min_nodes",
            "max_nodes",
            "threads_per_node",
            "memory_per_node",
            "idle_seconds",
        )
    }
    progress = ProgressLine(sys.stderr)
    try:
        result = commands.run(args.verb, getattr(args, "name", None), progress=progress, **options)
    finally:
        progress.done()
    if args.verb == "delete":
        sys.stdout.write(f"Deleted compute target {args.name!r}.\n")
        return 0
    if args.json:
        data = [t.to_dict() for t in result] if isinstance(result, list) else result.to_dict()
        sys.stdout.write(json.dumps(data, indent=1) + "\n")
    elif isinstance(result, list):
        sys.stdout.write(repr(TargetTable(result)) + "\n")
    else:
        sys.stdout.write(repr(result) + "\n")
    return 0
