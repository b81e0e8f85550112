"""``%batch``: batch endpoints and their jobs from a notebook (``az ml batch-endpoint``)."""

from __future__ import annotations

import sys

from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from nbstudio.jupyter.arguments import parse_args
from nbstudio.jupyter.errors import user_errors

VERBS = ("create", "invoke", "list", "show", "jobs", "delete")


@magics_class
class BatchMagics(Magics):
    @line_magic
    @magic_arguments()
    @argument("action", choices=VERBS, help="What to do.")
    @argument("name", nargs="?", help="The batch endpoint.")
    @argument("--model", help="create: MODEL@ALIAS or MODEL/VERSION.")
    @argument("--compute", help="create/invoke: a Dask compute target (default: local).")
    @argument("--mini-batch-size", type=int, help="Input files per partition (default 1).")
    @argument("--max-concurrency", type=int, help="Partitions at once per node (default 2).")
    @argument("--output-action", choices=("append_row", "summary_only"), help="Default append_row.")
    @argument("--error-threshold", type=int, help="Failed partitions allowed (-1: any; default 0).")
    @argument("--retries", type=int, help="Retries of a failed partition (default 3).")
    @argument("--input", help="invoke: the data asset version to score, e.g. wine-new@latest.")
    @argument("--output", help="invoke: the output asset's name (default INPUT-scored).")
    @argument("--no-wait", action="store_true", help="invoke: return while the job runs.")
    @user_errors
    def batch(self, line: str):
        """Batch endpoints: score data asset versions with a registered model, as jobs (runs).

        ::

            %batch create NAME --model wine@champion [--compute cpu] [--mini-batch-size 1]
                   [--max-concurrency 2] [--output-action append_row|summary_only]
                   [--error-threshold N] [--retries 3]
            %batch invoke NAME --input wine-new@latest [--output wine-scored] [--no-wait]
            %batch list | show NAME | jobs NAME | delete NAME

        ``invoke`` shows the job's run monitor (its progress metrics) while it waits.
        In code: ``job = nbstudio.batch.score("wine@champion", "wine-new@2", compute="cpu")``,
        then ``job.wait()`` and ``job.output.to_pandas()``.
        """
        from nbstudio.batch import commands

        args = parse_args(self.batch, line)
        settings = {
            "compute": args.compute,
            "mini_batch_size": args.mini_batch_size,
            "max_concurrency": args.max_concurrency,
            "output_action": args.output_action,
            "error_threshold": args.error_threshold,
            "retries": args.retries,
        }
        result = commands.run(
            args.action,
            args.name,
            model=args.model,
            input=args.input,
            output=args.output,
            **settings,
        )
        if args.action == "delete":
            sys.stdout.write(f"Deleted batch endpoint {args.name!r} (its jobs' runs stay).\n")
            return None
        if args.action == "invoke" and not args.no_wait:
            from IPython.display import display

            from nbstudio.jupyter.widgets.live import monitor

            display(monitor(result.run_id))  # rows_scored / partitions_done grow live
            return result.wait()
        return result
