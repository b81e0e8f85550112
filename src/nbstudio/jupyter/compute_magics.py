"""``%compute``: compute targets from a notebook, the ``az ml compute`` habit."""

from __future__ import annotations

import sys

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from nbstudio.compute.commands import DEFAULTS, VERBS
from nbstudio.jupyter.arguments import parse_args
from nbstudio.jupyter.errors import user_errors


@magics_class
class ComputeMagics(Magics):
    @line_magic
    @magic_arguments()
    @argument("action", choices=VERBS, help="What to do.")
    @argument("name", nargs="?", help="The compute target.")
    @argument("value", nargs="?", help="attach: the scheduler ADDRESS; scale: the number of nodes.")
    @argument(
        "--min-nodes",
        type=int,
        help=f"create/scale: fewest nodes (default {DEFAULTS['min_nodes']}).",
    )
    @argument(
        "--max-nodes",
        type=int,
        help=f"create/scale: most nodes (default {DEFAULTS['max_nodes']}).",
    )
    @argument("--threads-per-node", type=int, help="create: task slots per node (default 1).")
    @argument(
        "--memory-per-node",
        help=f"create: memory per node (default {DEFAULTS['memory_per_node']}).",
    )
    @argument(
        "--idle-seconds",
        type=float,
        help="create: release nodes idle this long, down to --min-nodes "
        f"(default {DEFAULTS['idle_seconds']:g}).",
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
        from nbstudio.compute import commands
        from nbstudio.compute.display import ProgressLine, TargetTable

        args = parse_args(self.compute, line)
        if args.action == "list":
            return TargetTable(commands.run("list"))
        if not args.name:
            raise UsageError(
                f"%compute {args.action} needs a NAME, e.g. %compute {args.action} cpu"
            )
        if args.action == "attach" and not args.value:
            raise UsageError("%compute attach NAME ADDRESS, e.g. tcp://10.0.0.5:8786")
        scale = args.action == "scale" and args.value is not None
        progress = ProgressLine(sys.stdout)
        try:
            result = commands.run(
                args.action,
                args.name,
                address=args.value if args.action == "attach" else None,
                nodes=_whole(args.value) if scale else None,
                min_nodes=args.min_nodes,
                max_nodes=args.max_nodes,
                threads_per_node=args.threads_per_node,
                memory_per_node=args.memory_per_node,
                idle_seconds=args.idle_seconds,
                progress=progress,
            )
        finally:
            progress.done()
        if args.action == "delete":
            sys.stdout.write(f"Deleted compute target {args.name!r}.\n")
            return None
        return result


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"%compute scale NAME N: N must be a whole number, not {text!r}") from None
