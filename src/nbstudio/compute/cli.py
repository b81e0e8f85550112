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
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)

    def verb(name: str, help: str, needs_name: bool = True) -> argparse.ArgumentParser:
        sub = verbs.add_parser(name, help=help, description=help)
        if needs_name:
            sub.add_argument("name", help="The compute target.")
        sub.add_argument("--json", action="store_true", help="Print JSON (the REST API's dicts).")
        sub.set_defaults(handler=run)
        return sub

    verb("list", "List the targets with state, nodes, cores, memory and tasks.", needs_name=False)
    create = verb("create", "Create a managed Dask cluster and start it.")
    create.add_argument("--min-nodes", type=int, default=0, help="Fewest nodes (default 0).")
    create.add_argument("--max-nodes", type=int, default=2, help="Most nodes (default 2).")
    create.add_argument("--threads-per-node", type=int, default=1, help="Task slots per node.")
    create.add_argument("--memory-per-node", default="4GB", help="Memory per node (4GB).")
    create.add_argument(
        "--idle-seconds", type=float, default=120.0, help="Release nodes idle this long (120)."
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
    from nbstudio.compute import targets
    from nbstudio.compute.display import ProgressLine, TargetTable

    progress = ProgressLine(sys.stderr)
    try:
        match args.verb:
            case "list":
                result = TargetTable(targets.list_targets())
            case "create":
                result = targets.create(
                    args.name,
                    min_nodes=args.min_nodes,
                    max_nodes=args.max_nodes,
                    threads_per_node=args.threads_per_node,
                    memory_per_node=args.memory_per_node,
                    idle_seconds=args.idle_seconds,
                    progress=progress,
                )
            case "attach":
                result = targets.attach(args.name, args.address)
            case "show":
                result = targets.get(args.name)
            case "start":
                result = targets.start(args.name, progress=progress)
            case "stop":
                result = targets.stop(args.name, progress=progress)
            case "scale":
                result = targets.scale(
                    args.name,
                    nodes=args.nodes,
                    min_nodes=args.min_nodes,
                    max_nodes=args.max_nodes,
                    progress=progress,
                )
            case "delete":
                targets.delete(args.name, progress=progress)
                progress.done()
                sys.stdout.write(f"Deleted compute target {args.name!r}.\n")
                return 0
            case _:
                raise AssertionError(args.verb)
    finally:
        progress.done()
    if args.json:
        data = [t.to_dict() for t in result] if isinstance(result, list) else result.to_dict()
        sys.stdout.write(json.dumps(data, indent=1) + "\n")
    else:
        sys.stdout.write(repr(result) + "\n")
    return 0
