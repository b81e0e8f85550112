"""``%mlmonitor``: the live run monitor for any run in the store."""

from __future__ import annotations

from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from nbstudio.jupyter.arguments import parse_args
from nbstudio.jupyter.errors import user_errors


@magics_class
class MonitorMagics(Magics):
    @line_magic
    @magic_arguments()
    @argument("run_id", nargs="?", help="The run to show (default: this kernel's last run).")
    @user_errors
    def mlmonitor(self, line: str):
        """Show a run live: status, elapsed time, params, metric charts and child runs.

        The run can be written by anything that logs to this workspace's store (this kernel, a
        script, a Dask worker, another notebook); the monitor polls the store and stops when the
        run has ended, leaving its final state.

        Example::

            %mlmonitor 5f1c0d9e8b7a4c3d2e1f0a9b8c7d6e5f
        """
        from nbstudio.jupyter.widgets.live import monitor

        args = parse_args(self.mlmonitor, line)
        return monitor(args.run_id)
