"""``%automl``: Azure's automated ML job from a notebook line (parse, then `nbstudio.automl`)."""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments
from IPython.display import display

from nbstudio.jupyter.arguments import parse_args
from nbstudio.jupyter.errors import user_errors


def variables(shell: Any, text: str, option: str, count: int) -> list[Any]:
    """``"X_train,y_train"`` -> the notebook's values of those names; a one-line error if not."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if len(names) != count:
        raise UsageError(f"{option} {text!r}: expected {count} variable names separated by commas")
    missing = [n for n in names if n not in shell.user_ns]
    if missing:
        raise UsageError(
            f"{option}: no variable named {', '.join(map(repr, missing))} in the notebook"
        )
    return [shell.user_ns[n] for n in names]


@magics_class
class AutoMLMagics(Magics):
    @line_magic
    @magic_arguments()
    @argument("task", help="classification or regression.")
    @argument("--train", required=True, metavar="X,y", help="Training data variables.")
    @argument("--test", metavar="X,y", help="Test data: evaluate the best model on it.")
    @argument("--metric", help="Azure primary metric, e.g. AUC_weighted (any case).")
    @argument("--timeout", help="Job time limit (seconds, or 30s, 5m); default 60 s.")
    @argument("--trial-timeout", help="Training time limit of each trial.")
    @argument("--max-trials", type=int, help="At most this many trials.")
    @argument("--early-stop", action="store_true", help="Stop once the search has converged.")
    @argument("--estimators", help="FLAML estimators, e.g. lgbm,rf,extra_tree,lrl1.")
    @argument("--compute", metavar="NAME", help="Run the job on a node of this compute target.")
    @argument("--register", metavar="NAME", help="Register the best model under this name.")
    @argument("--alias", action="append", default=[], help="With --register: set this alias.")
    @argument("--seed", type=int, default=0, help="FLAML's seed (default 0).")
    @argument("--name", help="The job's (parent run's) name.")
    @argument("-e", "--experiment", help="Experiment (default: see %%mlworkspace).")
    @argument("--out", metavar="VAR", default="_automl", help="Bind the result (default _automl).")
    @argument("--no-monitor", action="store_true", help="No live monitor while it runs.")
    @user_errors
    def automl(self, line: str):
        """Run an AutoML job: a parent run, a child run per trial, the best model logged.

        Example::

            %automl classification --train X_train,y_train --test X_test,y_test \\
                    --metric AUC_weighted --timeout 30s --register cancer --alias candidate
        """
        from nbstudio.automl import automl
        from nbstudio.jupyter.cell_runner import monitor_while

        args = parse_args(self.automl, line)
        if args.alias and not args.register:
            raise UsageError("--alias needs --register NAME")
        X, y = variables(self.shell, args.train, "--train", 2)
        X_test = y_test = None
        if args.test:
            X_test, y_test = variables(self.shell, args.test, "--test", 2)
        with monitor_while(self.shell, enabled=not args.no_monitor) as follow:
            result = automl(
                X,
                y,
                task=args.task,
                primary_metric=args.metric,
                timeout=args.timeout,
                trial_timeout=args.trial_timeout,
                max_trials=args.max_trials,
                early_stop=args.early_stop,
                estimators=args.estimators,
                seed=args.seed,
                X_test=X_test,
                y_test=y_test,
                register=args.register,
                aliases=args.alias,
                compute=args.compute,
                name=args.name,
                experiment=args.experiment,
                on_start=follow,
            )
        self.shell.user_ns[args.out] = result
        display(result)
