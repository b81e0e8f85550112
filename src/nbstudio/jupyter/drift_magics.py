"""``%drift``: compare current data with a model's training data, recorded as a run."""

from __future__ import annotations

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from nbstudio.jupyter.arguments import parse_args, parse_assignments
from nbstudio.jupyter.errors import user_errors


@magics_class
class DriftMagics(Magics):
    @line_magic
    @magic_arguments()
    @argument("model", nargs="?", help="MODEL@ALIAS or MODEL/VERSION: its training data.")
    @argument(
        "--current",
        required=False,
        help="ASSET@VERSION, endpoint:NAME[/DEPLOYMENT], batch:RUN_ID, or a DataFrame or "
        "batch job variable.",
    )
    @argument("--since", help="With endpoint:NAME, only inputs since e.g. 30m, 1h, 2d.")
    @argument("--reference", help="ASSET@VERSION (default: the model's training input).")
    @argument(
        "--threshold",
        action="append",
        metavar="STAT=V",
        help="psi, jsd, wasserstein (over the reference's std), ks, ks_pvalue.",
    )
    @argument("--features", help="Comma-separated columns to compare (default: the model's).")
    @argument("-e", "--experiment", help="Record the run in this experiment.")
    @user_errors
    def drift(self, line: str):
        """Data drift of current data against a model's training data (or --reference).

        ::

            %drift MODEL@ALIAS --current ASSET@V [--reference ASSET@V]
                   [--threshold psi=0.2]... [--features a,b] [-e EXPERIMENT]
            %drift MODEL@ALIAS --current endpoint:NAME[/DEPLOYMENT] [--since 1h]
            %drift MODEL@ALIAS --current batch:RUN_ID

        ``endpoint:NAME`` compares the inputs the endpoint sampled (deploy it with
        ``--collect-inputs RATE``); ``batch:RUN_ID`` (or a job variable) the data version a
        batch job scored.

        Per feature: KS, Wasserstein (divided by the reference's standard deviation),
        Jensen-Shannon and PSI; a feature drifts when one reaches its threshold (defaults
        psi=0.2 jsd=0.1 wasserstein=0.1 ks=0.1). The check is a run tagged nbstudio.drift with
        per-feature metrics and figures. In code: ``nbstudio.drift(model, current=...)``.
        """
        from nbstudio.drift.api import drift

        args = parse_args(self.drift, line)
        if not args.current:
            raise UsageError("%drift MODEL@ALIAS --current ASSET@VERSION")
        thresholds = parse_assignments(args.threshold, "--threshold", literal=False)
        try:
            numbers = {k: float(v) for k, v in thresholds.items()}
        except ValueError:
            raise UsageError("--threshold STAT=NUMBER, e.g. --threshold psi=0.2") from None
        features = [f.strip() for f in args.features.split(",")] if args.features else None
        return drift(
            args.model,
            current=self._data(args.current),
            reference=self._data(args.reference) if args.reference else None,
            thresholds=numbers,
            features=features,
            experiment=args.experiment,
            since=args.since,
        )

    def _data(self, text: str):
        """A DataFrame or batch job variable of the notebook by that name, else the text."""
        value = self.shell.user_ns.get(text) if self.shell is not None else None
        return value if hasattr(value, "columns") or hasattr(value, "run_id") else text
