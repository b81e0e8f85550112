"""``nbstudio endpoint``: local online endpoints from a terminal, like ``az ml online-endpoint``.

Same verbs and options as ``%endpoint`` in a notebook (create, deploy, traffic, list, show, invoke,
logs, key, stop, start, delete, monitor); ``--json`` prints the REST API's dicts instead of a
table. Run it anywhere inside the workspace folder. ``invoke`` reads a JSON payload in any format
of ``mlflow models serve`` (or a CSV table) from a file or ``-`` for stdin and prints the answer.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

HELP = "Serve registered models on local endpoints: deploy, split traffic, invoke, monitor."


def configure(parser: argparse.ArgumentParser) -> None:
    from nbstudio.cli import verb_adder
    from nbstudio.endpoints.collector import COLLECT_HELP
    from nbstudio.endpoints.commands import LOG_LINES
    from nbstudio.endpoints.worker_pool import START_TIMEOUT

    verb = verb_adder(parser, run, "The endpoint.")
    verb("list", "List endpoints with state, URL, traffic and requests.", needs_name=False)
    create = verb("create", "Create an endpoint (with a new key) and start it.")
    create.add_argument("--port", type=int, help="Port on 127.0.0.1 (default: a free one).")
    create.add_argument("--description", help="A note shown with the endpoint.")
    create.add_argument("--max-request-size", help="Answer 413 above this size (default 20MB).")
    create.add_argument("--request-timeout", type=float, help="Answer 504 after N s (60).")
    create.add_argument("--collect-inputs", metavar="RATE", help=COLLECT_HELP)
    deploy = verb("deploy", "Deploy a registered model version as a deployment.")
    deploy.add_argument("deployment", help="Deployment name, e.g. blue or green.")
    deploy.add_argument("model", help="NAME@ALIAS, NAME/VERSION or NAME (latest version).")
    deploy.add_argument("--traffic", type=int, help="Give it this percentage of live traffic.")
    deploy.add_argument("--timeout", type=float, help=f"Seconds to load ({START_TIMEOUT:g}).")
    deploy.add_argument("--collect-inputs", metavar="RATE", help=COLLECT_HELP)
    traffic = verb("traffic", "Set live traffic (adding up to 100) and mirroring.")
    traffic.add_argument("weights", nargs="*", metavar="DEPLOYMENT=PERCENT")
    traffic.add_argument("--mirror", action="append", metavar="DEPLOYMENT=PERCENT")
    verb("show", "Show an endpoint: URL, deployments, traffic, figures.")
    invoke = verb("invoke", "Score a payload on the endpoint and print the answer.", json=False)
    invoke.add_argument("--data", required=True, help="JSON or CSV file with the input, or -.")
    invoke.add_argument("--deployment", help="Send it to this deployment, whatever the traffic.")
    logs = verb(
        "logs", "Print the last lines of a deployment's (or the endpoint's) log.", json=False
    )
    logs.add_argument("deployment", nargs="?", help="Deployment (default: the endpoint process).")
    logs.add_argument("--tail", type=int, help=f"Lines to print ({LOG_LINES}).")
    key = verb("key", "Print the endpoint's key (for Authorization: Bearer KEY).", json=False)
    key.add_argument("--regenerate", action="store_true", help="Make a new key; the old one ends.")
    verb("start", "Start a stopped endpoint and its deployments.")
    verb("stop", "Stop an endpoint: its process and workers end; settings stay.")
    delete = verb("delete", "Delete an endpoint, or one deployment without traffic.", json=False)
    delete.add_argument("deployment", nargs="?", help="Delete only this deployment.")
    monitor = verb("monitor", "Print request rate, latency, failures and exceptions.")
    monitor.add_argument("--exceptions", type=int, default=3, help="How many to print (3).")


def _read_payload(path: str) -> Any:
    text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()  # noqa: SIM115
    if path.lower().endswith(".csv"):
        import io

        import pandas as pd

        return pd.read_csv(io.StringIO(text))
    return text


def _predictions_json(result: Any) -> str:
    import numpy as np
    import pandas as pd

    if isinstance(result, pd.DataFrame):
        return json.dumps({"predictions": json.loads(result.to_json(orient="records"))})
    if isinstance(result, np.ndarray):
        return json.dumps({"predictions": result.tolist()})
    return json.dumps(result)


def _monitor_text(name: str, figures: dict[str, Any], exceptions: int) -> str:
    import time

    lines = [f"Endpoint {name}: requests and figures per deployment (latency over 5 minutes)"]
    header = f"{'deployment':<14}{'requests':>9}{'failed':>8}{'4xx':>6}{'mirrored':>9}"
    lines.append(header + f"{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for deployment, row in sorted(figures["summary"].items()):
        latency = row["latency_ms"] or {}
        cells = [f"{latency.get(p, float('nan')):>9.2f}" for p in ("p50", "p95", "p99")]
        lines.append(
            f"{deployment or '(refused)':<14}{row['requests']:>9}{row['failures']:>8}"
            f"{row['client_errors']:>6}{row['mirrored']:>9}{row['rate']:>8.2f}" + "".join(cells)
        )
    for item in figures["exceptions"][:exceptions]:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(item["ts"] / 1000))
        lines.append(f"\n{when} {item['deployment']} {item['status']} {item['message']}")
        if item["traceback"]:
            lines.append(item["traceback"].rstrip())
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from nbstudio.endpoints import api, commands

    options = {k: v for k, v in vars(args).items() if k not in ("verb", "handler", "json")}
    match args.verb:
        case "list" if args.json:
            result: Any = api.list_endpoints()
        case "list":
            table = commands.run("list")
            result = table.to_string(index=False) if len(table) else "No endpoints yet."
        case "invoke":
            options["data"] = _read_payload(args.data)
            result = _predictions_json(commands.run("invoke", **options))
        case "monitor":
            figures = commands.run("monitor", args.name)
            result = figures if args.json else _monitor_text(args.name, figures, args.exceptions)
        case _:
            result = commands.run(args.verb, **options)
    if getattr(args, "json", False):
        data = result.to_dict() if isinstance(result, commands.EndpointInfo) else result
        sys.stdout.write(json.dumps(data, indent=1, default=str) + "\n")
    else:
        sys.stdout.write(f"{result}\n" if isinstance(result, str) else f"{result!r}\n")
    return 0
