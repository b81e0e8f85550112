"""The batch endpoint commands every front end calls: ``%batch``, ``nbstudio batch`` and REST.

A batch endpoint names a model reference (an alias follows the registry: each job pins the
version the alias points at when it starts) and its jobs' defaults; ``invoke`` starts a job
with them (`nbstudio.batch.jobs`), ``jobs`` lists its jobs (runs tagged with its name).

Example:
    >>> from nbstudio.batch import commands
    >>> commands.create("wine-batch", model="wine@champion", compute="cpu")  # doctest: +SKIP
    >>> commands.invoke("wine-batch", "wine-new@latest").wait()  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pandas as pd

from nbstudio.batch.errors import BatchConflictError
from nbstudio.batch.jobs import TAG, BatchJob, invoke_spec
from nbstudio.batch.records import DEFAULTS, BatchSpec, check_name, check_settings, records

VERBS = ("create", "invoke", "list", "show", "jobs", "delete")


def create(name: str, model: str, **settings: Any) -> BatchSpec:
    """A new batch endpoint; settings left out (or None) take `DEFAULTS`."""
    from nbstudio.batch.jobs import _pin_model

    check_name(name)
    given = {k: settings.get(k) for k in DEFAULTS}
    spec = check_settings(
        BatchSpec(
            name=name, model=model, **{k: DEFAULTS[k] if v is None else v for k, v in given.items()}
        )
    )
    _pin_model(model)  # the model and alias exist now (the version is pinned per job)
    records().create(spec, BatchConflictError(f"A batch endpoint named {name!r} exists already."))
    return spec


def show(name: str) -> BatchSpec:
    check_name(name)  # a name is a folder: never ../ or a path
    spec = records().read_spec(name)
    if spec is None:
        raise records().missing(name)
    return spec


def list_endpoints() -> pd.DataFrame:
    recs = records()
    rows = [asdict(s) for s in (recs.read_spec(n) for n in recs.names()) if s is not None]
    columns = ["name", "model", *DEFAULTS]
    return pd.DataFrame(rows, columns=[*columns, "generation", "created"])[columns]


def delete(name: str) -> BatchSpec:
    """Forget the endpoint (its jobs' runs and outputs stay)."""
    spec = show(name)
    records().remove(name)
    return spec


def invoke(name: str, input: str, output: str | None = None, **overrides: Any) -> BatchJob:
    """A job of endpoint ``name`` on data version ``input`` (settings overridable per job)."""
    import dataclasses

    spec = show(name)
    changes = {k: v for k, v in overrides.items() if v is not None and k in DEFAULTS}
    return invoke_spec(dataclasses.replace(spec, **changes), input, output, endpoint=name)


def jobs(name: str, limit: int = 50) -> pd.DataFrame:
    """The endpoint's jobs, newest first: status, input, model version, rows, output."""
    import mlflow

    from nbstudio.session import get_session
    from nbstudio.tracking.filters import quoted

    show(name)
    get_session().workspace  # noqa: B018 - opens the store
    frame = mlflow.search_runs(
        search_all_experiments=True,
        filter_string=f"tags.`{TAG}.endpoint` = {quoted(name)}",
        order_by=["attributes.start_time DESC"],
        max_results=limit,
    )
    wanted = {
        "run_id": "run_id",
        "status": "status",
        "start_time": "start_time",
        f"tags.{TAG}.input": "input",
        f"tags.{TAG}.model": "model",
        "metrics.partitions_done": "partitions_done",
        f"tags.{TAG}.partitions": "partitions",
        "metrics.rows_scored": "rows_scored",
        f"tags.{TAG}.output": "output",
        f"tags.{TAG}.error": "error",
    }
    present = {k: v for k, v in wanted.items() if k in frame.columns}
    return frame[list(present)].rename(columns=present)


def run(verb: str, name: str | None = None, **options: Any) -> Any:
    """The dispatcher the magic and the console command share."""
    from nbstudio.batch.errors import BatchError

    if verb not in VERBS:
        raise BatchError(f"Unknown command {verb!r}: use one of {', '.join(VERBS)}.")
    if verb == "list":
        return list_endpoints()
    if not name:
        raise BatchError(f"{verb} needs the name of a batch endpoint.")
    if verb != "invoke":
        options.pop("input", None), options.pop("output", None)
    if verb == "create":
        model = options.pop("model", None)
        if not model:
            raise BatchError("create NAME --model MODEL@ALIAS")
        return create(name, model, **options)
    if verb == "invoke":
        options.pop("model", None)
        source = options.pop("input", None)
        if not source:
            raise BatchError("invoke NAME --input ASSET@VERSION")
        return invoke(name, source, options.pop("output", None), **options)
    if verb == "jobs":
        return jobs(name)
    if verb == "show":
        return show(name)
    return delete(name)
