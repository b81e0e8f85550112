"""``%%mlrun``, ``%mlworkspace`` and ``%mlruns``: a cell as a tracked run, and where runs go."""

from __future__ import annotations

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from nbstudio.jupyter.arguments import Expression, parse_args, parse_assignments
from nbstudio.jupyter.errors import user_errors

_SWEEP_OPTIONS = {
    "sampling": "--sampling",
    "max_trials": "--max-trials",
    "max_concurrent": "--max-concurrent",
    "policy": "--policy",
    "seed": "--seed",
    "timeout": "--timeout",
    "trial_timeout": "--trial-timeout",
    "out": "--out",
}


def _refuse_sweep_options(args: object) -> None:
    """Sweep options on a plain run would be silently ignored: say what they need instead."""
    given = [flag for key, flag in _SWEEP_OPTIONS.items() if getattr(args, key) is not None]
    if given:
        raise UsageError(
            f"{', '.join(given)} only apply to a sweep: give a -p value a distribution "
            '(e.g. -p C="uniform(0, 1)") and/or --sweep maximize:METRIC.'
        )


@magics_class
class RunMagics(Magics):
    @cell_magic
    @magic_arguments("%mlrun")  # IPython adds one '%': usage and help then say %%mlrun
    @argument("name", nargs="?", help="Run name (default: MLflow's generated name).")
    @argument("-e", "--experiment", help="Experiment (default: see %%mlworkspace).")
    @argument(
        "-p",
        "--param",
        action="append",
        metavar="K=V",
        help="Set variable K to the Python literal V before the cell runs and log it as a param.",
    )
    @argument("-t", "--tag", action="append", metavar="K=V", help="Set a tag on the run.")
    @argument("--autolog", action="store_true", help="Turn on mlflow.autolog() for this cell only.")
    @argument(
        "--system-metrics",
        action="store_true",
        default=None,
        help="Record CPU, memory (and GPU) use as system/* metrics (default: system_metrics in "
        "nbstudio.toml).",
    )
    @argument(
        "--nested",
        action="store_true",
        help="Record the run as a child of the active run (else of this kernel's last run).",
    )
    @argument(
        "--no-monitor",
        action="store_true",
        help="Do not show the live run monitor (a text summary is shown at the end instead).",
    )
    @argument("--compute", metavar="NAME", help="Run the cell on this compute target (%%compute).")
    @argument(
        "--no-wait",
        action="store_true",
        help="With --compute: return a handle at once; handle.wait() brings the variables back.",
    )
    @argument(
        "--sweep",
        metavar="GOAL:METRIC",
        help="Run the cell as a sweep's trial body, e.g. maximize:accuracy (-p values may then be "
        "distributions such as \"loguniform(1e-3, 1e2)\" or \"choice('linear', 'rbf')\").",
    )
    @argument("--sampling", help="Sweep sampling: grid, random (default), sobol or bayesian.")
    @argument("--max-trials", type=int, help="Sweep: total trials (default 20).")
    @argument("--max-concurrent", type=int, help="Sweep: trials at once (default 1).")
    @argument(
        "--policy",
        help='Sweep early termination, e.g. "bandit(slack_factor=0.1, delay_evaluation=5)", '
        '"median_stopping()", "truncation_selection(20)" or none (default).',
    )
    @argument("--seed", type=int, help="Sweep: seed of the sampler (reproducible sampling).")
    @argument("--timeout", help="Sweep: time limit of the whole sweep (seconds, or 10m, 2h).")
    @argument("--trial-timeout", help="Sweep: time limit of each trial (seconds, or 90s, 5m).")
    @argument("--resume", metavar="RUN_ID", help="Continue the sweep whose parent run is RUN_ID.")
    @argument("--out", metavar="VAR", help="Sweep: bind the result to VAR (default _sweep).")
    @argument(
        "--evaluate",
        metavar="X,y",
        help="After the cell, evaluate its model on these test variables (metrics and plots "
        "logged to the run); [MODEL,]X,y names the model, else the last one the cell assigned.",
    )
    @user_errors
    def mlrun(self, line: str, cell: str):
        """Run the cell as an MLflow run: params, metrics, source, output, status and errors.

        Inside the cell ``mlflow.active_run()`` is the run, so ``mlflow.log_metric`` and friends
        just work. The cell's source, printed output and environment are saved as artifacts; the
        run ends FINISHED, FAILED (traceback in ``error.txt``) or KILLED (interrupt).

        Example::

            %%mlrun train -p alpha=0.5 -t team=nlp
            model = Ridge(alpha=alpha).fit(X, y)
            mlflow.log_metric("r2", model.score(X, y))
        """
        from nbstudio.jupyter.cell_runner import run_cell_tracked
        from nbstudio.tracking import RunSpec

        args = parse_args(self.mlrun, line)
        params = parse_assignments(args.param, "-p")
        tags = parse_assignments(args.tag, "-t", literal=False)
        expressions = {k: v.text for k, v in params.items() if isinstance(v, Expression)}
        if not (expressions or args.sweep or args.resume):
            _refuse_sweep_options(args)
        if expressions or args.sweep or args.resume:
            from nbstudio.jupyter.sweep_cell import run_sweep_cell

            return run_sweep_cell(self.shell, cell, args, params, tags)
        self.shell.user_ns.update(params)
        spec = RunSpec(
            name=args.name,
            experiment=args.experiment,
            params=params,
            tags=tags,
            source=cell,
            nested=args.nested,
            autolog=args.autolog,
            system_metrics=args.system_metrics,
        )
        if args.compute and args.compute != "local":
            from nbstudio.jupyter.cell_runner import run_compute_cell

            remote = run_compute_cell(
                self.shell,
                args.compute,
                cell,
                spec,
                wait=not args.no_wait,
                monitor=not args.no_monitor,
            )
            return remote if args.no_wait else None
        if args.no_wait:
            raise UsageError("--no-wait needs --compute NAME (a cell in the kernel always waits).")
        after = None
        if args.evaluate:
            from nbstudio.jupyter.evaluate_cell import evaluation_step

            after = evaluation_step(self.shell, cell, args.evaluate)
        run_cell_tracked(self.shell, cell, spec, monitor=not args.no_monitor, after=after)

    @line_magic
    @magic_arguments()
    @argument("-e", "--experiment", help="Set the default experiment for this kernel.")
    @argument("--path", help="Switch to the workspace holding this folder.")
    @user_errors
    def mlworkspace(self, line: str):
        """Show the workspace: folder, tracking URI, artifact root, default experiment, runs."""
        from pathlib import Path

        from nbstudio.session import get_session, reset_session
        from nbstudio.tracking.queries import workspace_summary

        args = parse_args(self.mlworkspace, line)
        session = get_session()
        if args.path:
            folder = Path(args.path).expanduser()
            if not folder.is_dir():
                raise UsageError(f"--path {args.path}: no such folder")
            override = session.experiment_override
            session = reset_session(folder)
            session.experiment_override = override
        if args.experiment:
            session.experiment_override = args.experiment
        return workspace_summary(session)

    @line_magic
    @magic_arguments()
    @argument("-e", "--experiment", help="Experiment (default: the default experiment).")
    @argument("-n", type=int, default=20, help="How many runs, newest first (default 20).")
    @user_errors
    def mlruns(self, line: str):
        """The latest runs as a table: status, duration, params and last metric values."""
        from nbstudio.tracking.queries import list_runs

        args = parse_args(self.mlruns, line)
        if args.n < 1:
            raise UsageError("-n must be at least 1")
        return list_runs(experiment=args.experiment, max_results=args.n)
