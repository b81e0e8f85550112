"""``%register_model`` and ``%models``: the model registry from a notebook."""

from __future__ import annotations

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from nbstudio.jupyter.arguments import parse_args, parse_assignments
from nbstudio.jupyter.errors import user_errors


@magics_class
class ModelMagics(Magics):
    @line_magic
    @magic_arguments()
    @argument("model", help="A variable holding a fitted model, or a runs:/ or models:/ URI.")
    @argument("--name", required=True, help="Registered model name.")
    @argument("--alias", action="append", default=[], help="Point this alias at the version.")
    @argument("--run", help="Log the model to this run (default: this kernel's last run).")
    @argument("--input-example", metavar="VAR", help="Variable with example input (signature).")
    @argument("-t", "--tag", action="append", metavar="K=V", help="Tag the model version.")
    @user_errors
    def register_model(self, line: str):
        """Register a model as a new version in the MLflow model registry.

        Example::

            %register_model clf --name wine --alias champion --input-example X_test
        """
        from nbstudio.models.registry import register_model

        args = parse_args(self.register_model, line)
        ns = self.shell.user_ns
        if args.model.startswith(("runs:/", "models:/")):
            model = args.model
        elif args.model in ns:
            model = ns[args.model]
        else:
            raise UsageError(f"No variable named {args.model!r} in the notebook.")
        example = None
        if args.input_example:
            if args.input_example not in ns:
                raise UsageError(f"--input-example: no variable named {args.input_example!r}.")
            example = ns[args.input_example]
        return register_model(
            model,
            args.name,
            aliases=args.alias,
            run_id=args.run,
            input_example=example,
            tags=parse_assignments(args.tag, "-t", literal=False),
        )

    @line_magic
    @magic_arguments()
    @argument("name", nargs="?", help="Show the versions of this model only.")
    @user_errors
    def models(self, line: str):
        """Registered models with their versions, aliases and source runs, as a table."""
        from nbstudio.models.registry import list_models

        args = parse_args(self.models, line)
        return list_models(args.name)
