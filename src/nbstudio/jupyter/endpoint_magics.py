"""``%endpoint``: local online endpoints from a notebook, the ``az ml online-endpoint`` habit.

One line magic with a verb, each verb with its own argument parser (so ``%endpoint deploy`` and
``%endpoint traffic`` report their own usage), each calling one function of
`nbstudio.endpoints.commands`.
"""

from __future__ import annotations

import inspect
import textwrap
import threading
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from nbstudio.endpoints.collector import COLLECT_HELP
from nbstudio.endpoints.commands import LOG_LINES
from nbstudio.endpoints.worker_pool import START_TIMEOUT
from nbstudio.jupyter.arguments import HELP_FLAGS, split_line
from nbstudio.jupyter.errors import user_errors

USAGE = """\
%endpoint create NAME [--port P] [--description TEXT] [--max-request-size 20MB]
                [--request-timeout 60] [--collect-inputs RATE]
%endpoint deploy NAME DEPLOYMENT MODEL_NAME@ALIAS|MODEL_NAME/VERSION [--traffic N]
                [--collect-inputs RATE]
%endpoint traffic NAME blue=90 green=10 [--mirror green=10]
%endpoint list
%endpoint show NAME
%endpoint invoke NAME --data VAR [--deployment D]
%endpoint logs NAME [DEPLOYMENT] [--tail N]
%endpoint key NAME [--regenerate]
%endpoint stop NAME | start NAME
%endpoint delete NAME [DEPLOYMENT]
%endpoint monitor NAME"""


_monitor_ready = threading.Event()


def _prepare_monitor() -> None:
    """Import plotly's FigureWidget in the background while a deployment loads (the kernel only
    waits then): it costs seconds once per kernel, and ``%endpoint monitor`` then opens at once."""
    if _monitor_ready.is_set():
        return
    _monitor_ready.set()

    def load() -> None:
        import plotly.graph_objects as go

        go.FigureWidget  # noqa: B018 - resolves plotly's lazy import

    threading.Thread(target=load, name="nbstudio-plotly-import", daemon=True).start()


# One parser per verb (so each reports its own usage); `commands.run` does the verb, with its
# defaults: an option left out here is None.
def _parser(verb: str, *arguments: Any) -> Any:
    def define() -> None: ...

    define.__name__ = verb
    for args, kwargs in reversed(arguments):
        define = argument(*args, **kwargs)(define)
    return magic_arguments(name=f"endpoint {verb}")(define).parser


def _arg(*args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return args, kwargs


_NAME = _arg("name", help="The endpoint.")
_COLLECT = _arg("--collect-inputs", metavar="RATE", help=COLLECT_HELP)
PARSERS = {
    "create": _parser(
        "create",
        _arg("name", help="Endpoint name: a letter, then letters, digits, - or _."),
        _arg(
            "--port",
            type=int,
            help="Port on 127.0.0.1 (default: a free one, kept across restarts).",
        ),
        _arg("--description", help="A note shown with the endpoint."),
        _arg("--max-request-size", help="Refuse larger bodies with 413 (default 20MB; e.g. 1MB)."),
        _arg("--request-timeout", type=float, help="Answer 504 after this many seconds (60)."),
        _COLLECT,
    ),
    "deploy": _parser(
        "deploy",
        _NAME,
        _arg("deployment", help="Deployment name, e.g. blue or green."),
        _arg("model", help="A registered model: NAME@ALIAS, NAME/VERSION or NAME (latest)."),
        _arg("--traffic", type=int, help="Give it this %% of live traffic, the others the rest."),
        _arg("--timeout", type=float, help=f"Seconds to wait for it ({START_TIMEOUT:g})."),
        _COLLECT,
    ),
    "traffic": _parser(
        "traffic",
        _NAME,
        _arg(
            "weights", nargs="*", metavar="DEPLOYMENT=PERCENT", help="Live traffic, adding to 100."
        ),
        _arg(
            "--mirror", action="append", metavar="DEPLOYMENT=PERCENT", help="Copy N%% of traffic."
        ),
    ),
    "list": _parser("list"),
    "show": _parser("show", _NAME),
    "invoke": _parser(
        "invoke",
        _NAME,
        _arg(
            "--data", required=True, metavar="VAR", help="Variable with the input (a DataFrame...)."
        ),
        _arg("--deployment", help="Send it to this deployment, whatever the traffic weights."),
    ),
    "logs": _parser(
        "logs",
        _NAME,
        _arg("deployment", nargs="?", help="A deployment (default: the endpoint process's log)."),
        _arg("--tail", type=int, help=f"How many lines ({LOG_LINES})."),
    ),
    "key": _parser(
        "key",
        _NAME,
        _arg(
            "--regenerate", action="store_true", help="Make a new key; the old one stops working."
        ),
    ),
    "start": _parser("start", _NAME),
    "stop": _parser("stop", _NAME),
    "delete": _parser(
        "delete",
        _NAME,
        _arg(
            "deployment", nargs="?", help="Delete only this deployment (it must take no traffic)."
        ),
    ),
    "monitor": _parser(
        "monitor",
        _NAME,
        _arg("--window", type=int, default=300, help="Seconds of history in the charts (300)."),
        _arg("--interval", type=float, default=2.0, help="Seconds between refreshes (2)."),
    ),
}


def _run(verb: str, args: Any, shell: Any) -> Any:
    """The notebook's own part of a verb (a variable as input, a live monitor); the rest is
    `commands.run`."""
    from nbstudio.endpoints import commands

    options = vars(args)
    if verb == "invoke":
        if args.data not in shell.user_ns:
            raise UsageError(f"--data: no variable named {args.data!r} in the notebook.")
        options["data"] = shell.user_ns[args.data]
    elif verb == "monitor":
        from nbstudio.jupyter.widgets.endpoint_monitor import EndpointMonitor

        return EndpointMonitor(args.name, window_s=args.window, interval=args.interval)
    elif verb == "deploy":
        _prepare_monitor()
    return commands.run(verb, **options)


@magics_class
class EndpointMagics(Magics):
    @line_magic
    @user_errors
    def endpoint(self, line: str):
        from nbstudio.endpoints.commands import Text

        words = split_line(line)
        if words and words[0] in HELP_FLAGS:
            return Text(inspect.cleandoc(self.endpoint.__doc__ or USAGE))
        if not words or words[0] not in PARSERS:
            given = f"unknown verb {words[0]!r}; " if words else ""
            raise UsageError(f"{given}use one of:\n{USAGE}")
        parser = PARSERS[words[0]]
        if HELP_FLAGS & set(words[1:]):
            return Text(parser.format_help())
        return _run(words[0], parser.parse_args(words[1:]), self.shell)

    # The help (%endpoint?) shows the same usage lines as a wrong verb does.
    endpoint.__doc__ = f"""Local online endpoints: registered models served on 127.0.0.1 with
        blue/green deployments, weighted and mirrored traffic, key auth and monitoring.

        ::

{textwrap.indent(USAGE, " " * 12)}

        ``%endpoint VERB -h`` explains a verb. From Python: ``nbstudio.endpoints.invoke(name,
        dataframe)``; from a terminal: ``nbstudio endpoint VERB ...``.
        """
