"""``%pipeline run|show|runs|why``: pipelines from a notebook (the core is nbstudio.pipelines)."""

from __future__ import annotations

import sys
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from nbstudio.jupyter.arguments import parse_args, parse_assignments
from nbstudio.jupyter.errors import user_errors

ACTIONS = ("run", "show", "runs", "why")


@magics_class
class PipelineMagics(Magics):
    @line_magic
    @magic_arguments()
    @argument("action", choices=ACTIONS, help="What to do.")
    @argument("names", nargs="*", help="The pipeline (a variable), or RUN_A RUN_B for why.")
    @argument("-p", "--param", action="append", metavar="K=V", help="A pipeline input.")
    @argument("--compute", help="The compute target of steps that name none (default: local).")
    @argument("--max-concurrent", type=int, default=1, help="Steps running at once.")
    @argument("--no-cache", action="store_true", help="Run every step, reuse none.")
    @argument("--rerun", action="append", metavar="STEP", help="Run STEP (and after it) again.")
    @argument("--resume", metavar="RUN_ID", help="Reuse the finished steps of that run.")
    @argument("--continue-on-failure", action="store_true", help="Other branches go on.")
    @argument("--no-monitor", action="store_true", help="No live monitor, one line at the end.")
    @user_errors
    def pipeline(self, line: str):
        """Pipelines of components (``@nbstudio.pipeline``), each step an MLflow child run.

        ::

            %pipeline show NAME [-p k=v]           # the graph, before running
            %pipeline run NAME [-p k=v] [--compute T] [--max-concurrent N] [--no-cache]
                               [--rerun STEP] [--resume RUN_ID] [--continue-on-failure]
            %pipeline runs [NAME]                  # the latest pipeline runs
            %pipeline why RUN_A RUN_B              # which steps re-ran in B, and what changed
        """
        args = parse_args(self.pipeline, line)
        if args.action == "runs":
            from nbstudio.pipelines.history import runs_table

            return runs_table(args.names[0] if args.names else None)
        if args.action == "why":
            if len(args.names) != 2:
                raise UsageError("%pipeline why RUN_A RUN_B")
            from nbstudio.pipelines.why import why

            sys.stdout.write("\n".join(why(*args.names)) + "\n")
            return None
        if len(args.names) != 1:
            raise UsageError(f"%pipeline {args.action} NAME: one pipeline, a variable name")
        pipeline = self._pipeline(args.names[0])
        params = parse_assignments(args.param, "-p")
        if args.action == "show":
            return pipeline.show(**params)
        return self._run(pipeline, params, args)

    def _pipeline(self, name: str) -> Any:
        from nbstudio.pipelines.pipeline import Pipeline

        found = self.shell.user_ns.get(name)
        if not isinstance(found, Pipeline):
            what = "is not defined" if found is None else f"is a {type(found).__name__}"
            raise UsageError(f"{name!r} {what}: decorate a function with @nbstudio.pipeline")
        return found

    def _run(self, pipeline: Any, params: dict[str, Any], args: Any) -> Any:
        monitor: list[Any] = []

        def on_start(run_id: str) -> None:
            if args.no_monitor or getattr(self.shell, "kernel", None) is None:
                return
            from nbstudio.jupyter.widgets.live import follow_cell_run

            monitor.append(follow_cell_run(run_id))

        try:
            result = pipeline.run(
                params,
                compute=args.compute,
                max_concurrent=args.max_concurrent,
                cache=not args.no_cache,
                rerun=args.rerun,
                resume=args.resume,
                continue_on_failure=args.continue_on_failure,
                on_start=on_start,
            )
        finally:
            for live in monitor:
                live.finish()
        if result.error:
            raise UsageError(result.summary())
        return result
