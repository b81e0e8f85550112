"""``%compute``: compute targets from a notebook, the ``az ml compute`` habit."""

from __future__ import annotations

import sys

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from nbstudio.jupyter.arguments import parse_args
from nbstudio.jupyter.errors import user_errors

SUBCOMMANDS = ("list", "create", "attach", "show", "start", "stop", "scale", "delete")


@magics_class
class ComputeMagics(Magics):
    @line_magic
    @magic_arguments()
    @argument("action", choices=SUBCOMMANDS, help="What to do.")
    @argument("name", nargs="?", help="The compute target.")
    @argument("value", nargs="?", help="attach: the scheduler ADDRESS; scale: the number of nodes.")
    @argument("--min-nodes", type=int, help="create/scale: fewest nodes (default 0).")
    @argument("--max-nodes", type=int, help="create/scale: most nodes (default 2).")
    @argument("--threads-per-node", type=int, default=1, help="create: task slots per node.")
    @argument("--memory-per-node", default="4GB", help="create: memory per node (default 4GB).")
    @argument(
        "--idle-seconds",
        type=float,
        default=120.0,
        help="create: release nodes idle this long, down to --min-nodes (default 120).",
    )
    @user_errors
    def compute(self, line: str):
        """Compute targets: managed Dask clusters that autoscale, or attached Dask schedulers.

        ::

            %compute list
            %compute create NAME [--min-nodes 0] [--max-nodes 2] [--threads-per-node 1]
                                 [--memory-per-node 4GB] [--idle-seconds 120]
            %compute attach NAME ADDRESS
            %compute show NAME
            %compute start NAME
            %compute stop NAME
            %compute scale NAME [N] [--min-nodes A] [--max-nodes B]
            %compute delete NAME

        A cell runs on a target with ``%%mlrun --compute NAME``.
        """
        from nbstudio.compute import targets
        from nbstudio.compute.display import ProgressLine, TargetTable

        args = parse_args(self.compute, line)
        if args.action == "list":
            return TargetTable(targets.list_targets())
        if not args.name:
            raise UsageError(
                f"%compute {args.action} needs a NAME, e.g. %compute {args.action} cpu"
            )
        progress = ProgressLine(sys.stdout)
        try:
            match args.action:
                case "show":
                    return targets.get(args.name)
                case "create":
                    return targets.create(
                        args.name,
                        min_nodes=0 if args.min_nodes is None else args.min_nodes,
                        max_nodes=2 if args.max_nodes is None else args.max_nodes,
                        threads_per_node=args.threads_per_node,
                        memory_per_node=args.memory_per_node,
                        idle_seconds=args.idle_seconds,
                        progress=progress,
                    )
                case "attach":
                    if not args.value:
                        raise UsageError("%compute attach NAME ADDRESS, e.g. tcp://10.0.0.5:8786")
                    return targets.attach(args.name, args.value)
                case "start":
                    return targets.start(args.name, progress=progress)
                case "stop":
                    return targets.stop(args.name, progress=progress)
                case "scale":
                    nodes = _whole(args.value) if args.value is not None else None
                    return targets.scale(
                        args.name,
                        nodes=nodes,
                        min_nodes=args.min_nodes,
                        max_nodes=args.max_nodes,
                        progress=progress,
                    )
                case "delete":
                    targets.delete(args.name, progress=progress)
                    progress.done()
                    sys.stdout.write(f"Deleted compute target {args.name!r}.\n")
                    return None
        finally:
            progress.done()


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"%compute scale NAME N: N must be a whole number, not {text!r}") from None
