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

from nbstudio.jupyter.arguments import HELP_FLAGS, split_line
from nbstudio.jupyter.errors import user_errors

USAGE = """\
%endpoint create NAME [--port P] [--description TEXT] [--max-request-size 20MB]
                [--request-timeout 60]
%endpoint deploy NAME DEPLOYMENT MODEL_NAME@ALIAS|MODEL_NAME/VERSION [--traffic N]
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


@magic_arguments(name="endpoint create")
@argument("name", help="Endpoint name: a letter, then letters, digits, - or _.")
@argument("--port", type=int, help="Port on 127.0.0.1 (default: a free one, kept across restarts).")
@argument("--description", default="", help="A note shown with the endpoint.")
@argument("--max-request-size", help="Refuse larger bodies with 413 (default 20MB; e.g. 1MB).")
@argument("--request-timeout", type=float, help="Answer 504 after this many seconds (60).")
def _create(args: Any, shell: Any) -> Any:
    from nbstudio.endpoints import commands

    return commands.create(
        args.name,
        port=args.port,
        description=args.description,
        max_request_size=args.max_request_size,
        request_timeout=args.request_timeout,
    )


@magic_arguments(name="endpoint deploy")
@argument("name", help="The endpoint.")
@argument("deployment", help="Deployment name, e.g. blue or green.")
@argument("model", help="A registered model: NAME@ALIAS, NAME/VERSION or NAME (latest).")
@argument("--traffic", type=int, help="Give it this %% of live traffic, the others the rest.")
@argument("--timeout", type=float, default=300.0, help="Seconds to wait for it (300).")
def _deploy(args: Any, shell: Any) -> Any:
    from nbstudio.endpoints import commands

    _prepare_monitor()
    return commands.deploy(
        args.name, args.deployment, args.model, traffic=args.traffic, timeout=args.timeout
    )


@magic_arguments(name="endpoint traffic")
@argument("name", help="The endpoint.")
@argument("weights", nargs="*", metavar="DEPLOYMENT=PERCENT", help="Live traffic, adding to 100.")
@argument("--mirror", action="append", metavar="DEPLOYMENT=PERCENT", help="Copy N%% of traffic.")
def _traffic(args: Any, shell: Any) -> Any:
    from nbstudio.endpoints import commands
    from nbstudio.endpoints.routing import parse_weights

    weights = parse_weights(args.weights) if args.weights else None
    mirror = parse_weights(args.mirror, "--mirror") if args.mirror else None
    if weights is None and mirror is None:
        return commands.show(args.name)
    return commands.set_traffic(args.name, weights, mirror)


@magic_arguments(name="endpoint list")
def _list(args: Any, shell: Any) -> Any:
    from nbstudio.endpoints import commands

    return commands.table()


@magic_arguments(name="endpoint show")
@argument("name", help="The endpoint.")
def _show(args: Any, shell: Any) -> Any:
    from nbstudio.endpoints import commands

    return commands.show(args.name)


@magic_arguments(name="endpoint invoke")
@argument("name", help="The endpoint.")
@argument("--data", required=True, metavar="VAR", help="Variable with the input (a DataFrame...).")
@argument("--deployment", help="Send it to this deployment, whatever the traffic weights.")
def _invoke(args: Any, shell: Any) -> Any:
    from nbstudio.endpoints import commands

    if args.data not in shell.user_ns:
        raise UsageError(f"--data: no variable named {args.data!r} in the notebook.")
    return commands.invoke(args.name, shell.user_ns[args.data], deployment=args.deployment)


@magic_arguments(name="endpoint logs")
@argument("name", help="The endpoint.")
@argument("deployment", nargs="?", help="A deployment (default: the endpoint process's log).")
@argument("--tail", type=int, default=100, help="How many lines (100).")
def _logs(args: Any, shell: Any) -> Any:
    from nbstudio.endpoints import commands

    return commands.logs(args.name, args.deployment, tail=args.tail)


@magic_arguments(name="endpoint key")
@argument("name", help="The endpoint.")
@argument("--regenerate", action="store_true", help="Make a new key; the old one stops working.")
def _key(args: Any, shell: Any) -> Any:
    from nbstudio.endpoints import commands
    from nbstudio.endpoints.commands import Text

    return Text(commands.get_key(args.name, regenerate=args.regenerate))


@magic_arguments(name="endpoint start")
@argument("name", help="The endpoint.")
def _start(args: Any, shell: Any) -> Any:
    from nbstudio.endpoints import commands

    return commands.start(args.name)


@magic_arguments(name="endpoint stop")
@argument("name", help="The endpoint.")
def _stop(args: Any, shell: Any) -> Any:
    from nbstudio.endpoints import commands

    return commands.stop(args.name)


@magic_arguments(name="endpoint delete")
@argument("name", help="The endpoint.")
@argument("deployment", nargs="?", help="Delete only this deployment (it must take no traffic).")
def _delete(args: Any, shell: Any) -> Any:
    from nbstudio.endpoints import commands

    return commands.delete(args.name, args.deployment)


@magic_arguments(name="endpoint monitor")
@argument("name", help="The endpoint.")
@argument("--window", type=int, default=300, help="Seconds of history in the charts (300).")
@argument("--interval", type=float, default=2.0, help="Seconds between refreshes (2).")
def _monitor(args: Any, shell: Any) -> Any:
    from nbstudio.jupyter.widgets.endpoint_monitor import EndpointMonitor

    return EndpointMonitor(args.name, window_s=args.window, interval=args.interval)


VERBS = {
    "create": _create,
    "deploy": _deploy,
    "traffic": _traffic,
    "list": _list,
    "show": _show,
    "invoke": _invoke,
    "logs": _logs,
    "key": _key,
    "start": _start,
    "stop": _stop,
    "delete": _delete,
    "monitor": _monitor,
}


@magics_class
class EndpointMagics(Magics):
    @line_magic
    @user_errors
    def endpoint(self, line: str):
        from nbstudio.endpoints.commands import Text

        words = split_line(line)
        if words and words[0] in HELP_FLAGS:
            return Text(inspect.cleandoc(self.endpoint.__doc__ or USAGE))
        if not words or words[0] not in VERBS:
            given = f"unknown verb {words[0]!r}; " if words else ""
            raise UsageError(f"{given}use one of:\n{USAGE}")
        verb = VERBS[words[0]]
        if HELP_FLAGS & set(words[1:]):
            return Text(verb.parser.format_help())  # type: ignore[attr-defined]
        args = verb.parser.parse_args(words[1:])  # type: ignore[attr-defined]
        return verb(args, self.shell)

    # The help (%endpoint?) shows the same usage lines as a wrong verb does.
    endpoint.__doc__ = f"""Local online endpoints: registered models served on 127.0.0.1 with
        blue/green deployments, weighted and mirrored traffic, key auth and monitoring.

        ::

{textwrap.indent(USAGE, " " * 12)}

        ``%endpoint VERB -h`` explains a verb. From Python: ``nbstudio.endpoints.invoke(name,
        dataframe)``; from a terminal: ``nbstudio endpoint VERB ...``.
        """
