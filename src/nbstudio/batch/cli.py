"""``nbstudio batch``: batch endpoints and their jobs from a terminal (``az ml batch-endpoint``).

Same verbs and options as ``%batch`` in a notebook, through the same dispatcher
(`nbstudio.batch.commands.run`). ``invoke`` waits for the job unless ``--no-wait`` (the job then
goes on in this process only while it lives: use it from a notebook or keep the terminal open).
"""

from __future__ import annotations

import argparse
import sys

HELP = "Create batch endpoints, invoke them on data asset versions, list their jobs."

SETTINGS = (
    "compute",
    "mini_batch_size",
    "max_concurrency",
    "output_action",
    "error_threshold",
    "retries",
)


def configure(parser: argparse.ArgumentParser) -> None:
    from nbstudio.cli import verb_adder

    verb = verb_adder(parser, run, "The batch endpoint.")
    create = verb("create", "Create a batch endpoint naming a model and job defaults.", json=False)
    create.add_argument("--model", required=True, help="MODEL@ALIAS or MODEL/VERSION.")
    invoke = verb("invoke", "Score a data asset version with the endpoint's model.", json=False)
    invoke.add_argument("--input", required=True, help="ASSET@VERSION, e.g. wine-new@latest.")
    invoke.add_argument("--output", help="The output asset's name (default INPUT-scored).")
    invoke.add_argument("--no-wait", action="store_true", help="Return while the job runs.")
    for sub in (create, invoke):
        sub.add_argument("--compute", help="A Dask compute target (default local).")
        sub.add_argument("--mini-batch-size", type=int, help="Input files per partition.")
        sub.add_argument("--max-concurrency", type=int, help="Partitions at once per node.")
        sub.add_argument("--output-action", choices=("append_row", "summary_only"))
        sub.add_argument("--error-threshold", type=int, help="Failed partitions allowed (-1: any).")
        sub.add_argument("--retries", type=int, help="Retries of a failed partition.")
    verb("list", "List the batch endpoints.", needs_name=False, json=False)
    verb("show", "Show one batch endpoint.", json=False)
    verb("jobs", "List an endpoint's jobs (newest first).", json=False)
    verb("delete", "Delete a batch endpoint (its jobs' runs stay).", json=False)


def run(args: argparse.Namespace) -> int:
    from nbstudio.batch import commands

    options = {k: getattr(args, k, None) for k in SETTINGS}
    for key in ("model", "input", "output"):
        options[key] = getattr(args, key, None)
    result = commands.run(args.verb, getattr(args, "name", None), **options)
    if args.verb == "invoke" and not args.no_wait:
        result = result.wait()
    text = result.to_string(index=False) if hasattr(result, "to_string") else repr(result)
    sys.stdout.write(text + "\n")
    return 1 if args.verb == "invoke" and not args.no_wait and result.status != "FINISHED" else 0
