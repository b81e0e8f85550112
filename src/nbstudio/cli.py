"""``nbstudio``: the console command, one subcommand per feature (``nbstudio compute list``, ...).

A feature adds its subcommand with one ``(name, module)`` line in `SUBCOMMANDS`. The module
provides ``HELP`` (one line for ``nbstudio --help``) and ``configure(parser)``, which declares its
arguments on an argparse parser and sets ``handler`` with ``parser.set_defaults(handler=...)``;
the handler takes the parsed arguments and returns an exit code (None means 0). Modules import
their core lazily inside the handler, so ``nbstudio --help`` stays fast.

An `NbstudioError` (a user's mistake) is printed as one line on stderr with exit code 1.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from typing import Any

from nbstudio import __version__

SUBCOMMANDS: list[tuple[str, str]] = [
    ("compute", "nbstudio.compute.cli"),
    ("endpoint", "nbstudio.endpoints.cli"),
    ("data", "nbstudio.data.cli"),
    ("batch", "nbstudio.batch.cli"),
]


def verb_adder(
    parser: argparse.ArgumentParser, handler: Callable[[argparse.Namespace], Any], noun: str
) -> Callable[..., argparse.ArgumentParser]:
    """``verb(name, help, needs_name=True, json=True)``: adds one verb of a subcommand, with a
    positional NAME (``noun`` says what it names) and ``--json`` unless told otherwise."""
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)

    def verb(
        name: str, help: str, needs_name: bool = True, json: bool = True
    ) -> argparse.ArgumentParser:
        sub = verbs.add_parser(name, help=help, description=help)
        if needs_name:
            sub.add_argument("name", help=noun)
        if json:
            sub.add_argument(
                "--json", action="store_true", help="Print JSON (the REST API's dicts)."
            )
        sub.set_defaults(handler=handler)
        return sub

    return verb


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nbstudio", description="The nbstudio workspace from the command line."
    )
    parser.add_argument("--version", action="version", version=f"nbstudio {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in SUBCOMMANDS:
        module = importlib.import_module(module_name)
        module.configure(
            commands.add_parser(name, help=module.HELP, description=module.__doc__.split("\n")[0])
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    from nbstudio.errors import NbstudioError

    args = build_parser().parse_args(argv)
    try:
        code = args.handler(args)
    except NbstudioError as exc:
        sys.stderr.write(f"nbstudio {args.command}: {exc}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    return 0 if code is None else int(code)


if __name__ == "__main__":
    sys.exit(main())
