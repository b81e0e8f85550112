"""A batch job: one invocation scoring a data asset version with a model version, as an MLflow run.

``nbstudio.batch.score("wine@champion", "wine-new@2", compute="cpu")`` checks everything it can
before anything is recorded (the model version, the input version and its partitions, the
compute target, each worker's packages against the model's pinned requirements: a mismatch is a
one-line error naming the package), then starts the job's run and scores in the background; the
returned `BatchJob` has ``.wait()`` and ``.output``.

The run (tag ``nbstudio.batch=true``) records the input version as its input (context
``scoring``), the model version (tag ``nbstudio.batch.model``), the settings as params, the
metrics ``rows_scored`` and ``partitions_done`` as partitions finish (at most twice a second, and
after the last; step = partitions done, so both only grow and the run monitor shows the
progress), failed partitions in ``error.txt``, and produces the output: a new version of a
``uri_folder`` asset holding one Parquet file per input file (and ``predictions.csv`` with
``append_row``). On a Dask target partitions are tasks submitted with Dask's ``retries``, several
to a task when the model is cheap (`dispatch`); in the kernel (``local``) partitions run in
``max_concurrency`` threads with the same number of retries. More failed partitions than
``error_threshold`` (-1: no limit) end the run FAILED naming them, and no output version is made.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from nbstudio.batch import dispatch, scoring
from nbstudio.batch import partitions as partitioning
from nbstudio.batch.errors import BatchError, EnvironmentMismatchError
from nbstudio.batch.records import DEFAULTS, BatchSpec, check_settings

TAG = "nbstudio.batch"
CONTEXT = "scoring"
LOCAL = "local"
ERROR_FILE = "error.txt"
PROGRESS_SECONDS = 0.5  # at most this often a progress write


@dataclass
class _Plan:
    """Everything checked before the run exists."""

    spec: BatchSpec
    model_name: str
    model_version: str
    model_uri: str
    asset: Any
    fs: Any
    parts: list[partitioning.Partition]
    output: str
    output_uri: str
    output_url: str
    address: str | None
    slots: int
    job_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])


# -- checks before the run ---------------------------------------------------------------------
def _pin_model(reference: str) -> tuple[str, str, str]:
    """Name, version and artifact location of the version ``reference`` points at now."""
    from nbstudio.errors import ModelError
    from nbstudio.models.references import resolve_model

    try:
        resolved = resolve_model(reference, use="score with")
    except ModelError as exc:
        raise BatchError(str(exc)) from None
    return resolved.name, resolved.version, resolved.source


def pinned_requirements(model_uri: str) -> dict[str, str]:
    """``{distribution: version}`` of the model's ``name==version`` requirements."""
    import logging
    import re

    import mlflow

    pyfunc_log = logging.getLogger("mlflow.pyfunc")
    level = pyfunc_log.level
    pyfunc_log.setLevel(logging.WARNING)  # no "to install the dependencies, run ..." line
    try:
        path = mlflow.pyfunc.get_model_dependencies(model_uri)
        lines = open(path, encoding="utf-8").read().splitlines()  # noqa: SIM115
    except Exception:  # no requirements recorded: nothing to check
        return {}
    finally:
        pyfunc_log.setLevel(level)
    pins = {}
    for line in lines:
        m = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*([^\s;#]+)", line)
        if m:
            pins[m.group(1)] = m.group(3)
    return pins


def check_environment(pins: dict[str, str], found: dict[str, dict[str, str | None]], label: str):
    """Refuse the first worker whose packages differ from the model's pins (one line)."""
    for where, versions in sorted(found.items()):
        for name, wanted in sorted(pins.items()):
            have = versions.get(name)
            if have is None:
                raise EnvironmentMismatchError(
                    f"{where} lacks {name} ({label} needs {name}=={wanted})."
                )
            if have != wanted:
                raise EnvironmentMismatchError(
                    f"{where} has {name} {have} but {label} needs {name}=={wanted}."
                )


def _compute(target: str) -> tuple[str | None, int]:
    """The Dask scheduler's address (None for local) and how many partitions to keep in flight
    per unit of ``max_concurrency``."""
    if target in (None, "", LOCAL):
        return None, 1
    from nbstudio.compute.targets import require_running

    info = require_running(target)
    if info.address is None:
        raise BatchError(f"Compute target {target!r} has no scheduler address.")
    nodes = max(info.max_nodes or 0, info.nodes or 0, 1)
    return info.address, nodes


def _plan(spec: BatchSpec, input_ref: str, output: str | None) -> _Plan:
    from nbstudio import data
    from nbstudio.data import datastores, places
    from nbstudio.data.uris import check_name
    from nbstudio.session import get_session

    check_settings(spec)
    ws = get_session().workspace
    name, version, source = _pin_model(spec.model)
    # Workers load the pinned version's artifacts by location: no registry look-up there, so
    # a worker can never resolve the name against another store.
    model_uri = source
    asset = data.get(input_ref, context=CONTEXT)
    fs, parts = partitioning.plan(asset, spec.mini_batch_size)
    out_name = check_name(output or f"{asset.name.rsplit('/', 1)[-1]}-scored")
    address, nodes = _compute(spec.compute)
    plan = _Plan(
        spec=spec,
        model_name=name,
        model_version=version,
        model_uri=model_uri,
        asset=asset,
        fs=fs,
        parts=parts,
        output=out_name,
        output_uri="",
        output_url="",
        address=address,
        slots=spec.max_concurrency * nodes,
    )
    rel = f"batch/{out_name}/{plan.job_id}"
    place = places.in_datastore(ws, datastores.get(ws, datastores.BLOB), rel)
    plan.output_uri, plan.output_url = place.uri, place.url
    pins = _pins_of(ws.tracking_uri, name, version, source)
    if pins:
        _check_where_it_runs(address, pins, f"model {name}/{version}")
    return plan


_pinned: dict[tuple[str, ...], dict[str, str]] = {}
_matched: set[tuple[Any, ...]] = set()


def _pins_of(tracking_uri: str, name: str, version: str, source: str) -> dict[str, str]:
    """`pinned_requirements` of a model version, read once per kernel (a version's artifacts
    never change)."""
    key = (tracking_uri, name, version, source)
    if key not in _pinned:
        _pinned[key] = pinned_requirements(f"models:/{name}/{version}")
    return _pinned[key]


def _check_where_it_runs(address: str | None, pins: dict[str, str], label: str) -> None:
    """`check_environment` on this kernel or on every worker of the target; a set of workers
    found matching is not asked again (a replaced worker has a new address: asked again)."""
    if address is None:
        check_environment(pins, {"this kernel": scoring.installed(list(pins))}, label)
        return
    client = dispatch.dask_client(address)
    workers = tuple(sorted(client.scheduler_info()["workers"]))
    key = (address, workers, tuple(sorted(pins.items())))
    if key in _matched:
        return
    found = client.run(scoring.installed, list(pins))
    check_environment(pins, {f"worker {w}": v for w, v in found.items()}, label)
    _matched.add(key)


# -- the job -----------------------------------------------------------------------------------
class BatchJob:
    """One batch job: its run, and (while it runs here) the thread scoring it."""

    def __init__(self, run_id: str, thread: threading.Thread | None = None) -> None:
        self.run_id = run_id
        self._thread = thread

    def _run(self) -> Any:
        from nbstudio.session import get_session

        return get_session().client().get_run(self.run_id)

    @property
    def status(self) -> str:
        return self._run().info.status

    def wait(self, timeout: float | None = None) -> BatchJob:
        """Block until the job ends (or ``timeout`` seconds); returns the job."""
        if self._thread is not None:
            self._thread.join(timeout)
        else:
            deadline = None if timeout is None else time.monotonic() + timeout
            while self.status == "RUNNING":
                if deadline is not None and time.monotonic() > deadline:
                    break
                time.sleep(0.2)
        return self

    @property
    def error(self) -> str | None:
        return self._run().data.tags.get(f"{TAG}.error")

    @property
    def output(self) -> Any:
        """The output data asset version (`nbstudio.data.get`), once the job FINISHED."""
        from nbstudio import data

        run = self._run()
        ref = run.data.tags.get(f"{TAG}.output")
        if run.info.status != "FINISHED" or not ref:
            why = run.data.tags.get(f"{TAG}.error", "")
            raise BatchError(
                f"Job {self.run_id} is {run.info.status}: no output yet"
                + (f" ({why})" if why else "")
                + "."
            )
        return data.get(ref, context=CONTEXT)

    def predictions(self) -> Any:
        """The scored rows of every output Parquet file as one DataFrame, in input order (the
        output folder also holds ``predictions.csv``, so it is not one table to
        ``output.to_pandas()``)."""
        import pandas as pd

        output = self.output
        files = [f for f in output.files() if f.endswith(".parquet")]
        frames = []
        for path in files:
            with output.fs.open(path, "rb") as fh:
                frames.append(pd.read_parquet(fh))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def __repr__(self) -> str:
        run = self._run()
        m, tags = run.data.metrics, run.data.tags
        out = f", output {tags[f'{TAG}.output']}" if f"{TAG}.output" in tags else ""
        err = f" - {tags[f'{TAG}.error']}" if f"{TAG}.error" in tags else ""
        return (
            f"Batch job {run.info.run_name} ({self.run_id[:8]}): {run.info.status}, "
            f"{int(m.get('partitions_done', 0))}/{tags.get(f'{TAG}.partitions', '?')} partitions, "
            f"{int(m.get('rows_scored', 0))} rows{out}{err}"
        )


def _start_run(plan: _Plan, endpoint: str | None, experiment: str | None) -> str:
    from nbstudio.session import get_session
    from nbstudio.tracking.context import owner_tags

    session = get_session()
    client = session.client()
    spec = plan.spec
    tags = {
        TAG: "true",
        f"{TAG}.model": f"{plan.model_name}/{plan.model_version}",
        f"{TAG}.model_reference": spec.model,
        f"{TAG}.input": plan.asset.reference,
        f"{TAG}.partitions": str(len(plan.parts)),
        f"{TAG}.compute": spec.compute,
        **({f"{TAG}.endpoint": endpoint} if endpoint else {}),
        **owner_tags(),  # a kernel that dies mid-job leaves no RUNNING run behind
    }
    run = client.create_run(
        session.experiment_id(experiment or (f"batch-{endpoint}" if endpoint else None)),
        run_name=f"batch {endpoint or plan.model_name} {plan.asset.reference}"[:250],
        tags=tags,
    )
    from mlflow.entities import Param

    settings = {k: getattr(spec, k) for k in DEFAULTS} | {"output": plan.output}
    client.log_batch(run.info.run_id, params=[Param(k, str(v)) for k, v in settings.items()])
    return run.info.run_id


def score(
    model: str,
    input: str,
    compute: str | None = None,
    output: str | None = None,
    *,
    mini_batch_size: int | None = None,
    max_concurrency: int | None = None,
    output_action: str | None = None,
    error_threshold: int | None = None,
    retries: int | None = None,
    endpoint: str | None = None,
    experiment: str | None = None,
) -> BatchJob:
    """Score data asset version ``input`` with ``model`` (``NAME@ALIAS``/``NAME/VERSION``).

    Returns at once with the running job; see the module docstring for what is checked first
    and what is recorded.

    Example:
        >>> job = nbstudio.batch.score(
        ...     "wine@champion", "wine-new@2", compute="cpu"
        ... )  # doctest: +SKIP
        >>> job.wait().output.to_pandas().head()  # doctest: +SKIP
    """
    given = {
        "compute": compute,
        "mini_batch_size": mini_batch_size,
        "max_concurrency": max_concurrency,
        "output_action": output_action,
        "error_threshold": error_threshold,
        "retries": retries,
    }
    spec = BatchSpec(
        name=endpoint or "",
        model=model,
        **{k: DEFAULTS[k] if v is None else v for k, v in given.items()},
    )
    return invoke_spec(spec, input, output, endpoint=endpoint, experiment=experiment)


def invoke_spec(
    spec: BatchSpec,
    input: str,
    output: str | None = None,
    endpoint: str | None = None,
    experiment: str | None = None,
) -> BatchJob:
    """Start a job with the settings of ``spec`` (an endpoint's, or `score`'s)."""
    plan = _plan(spec, input, output)
    run_id = _start_run(plan, endpoint, experiment)
    thread = threading.Thread(
        target=_execute, args=(plan, run_id), name=f"nbstudio-batch-{run_id[:8]}", daemon=True
    )
    thread.start()
    return BatchJob(run_id, thread)


def _execute(plan: _Plan, run_id: str) -> None:
    """The job's thread: its run active here (inputs and outputs are recorded on it)."""
    import mlflow

    mlflow.start_run(run_id=run_id)
    try:
        from nbstudio.data.lineage import record_input

        a = plan.asset
        record_input(a.name, a.digest, a.uri, a.schema(), CONTEXT, a.version)
        import fsspec

        out_fs, out_root = fsspec.core.url_to_fs(plan.output_url)
        out_fs.makedirs(out_root, exist_ok=True)
        from nbstudio.batch.output import finish

        failed = _score_all(plan, run_id)
        status = finish(plan, run_id, failed)
    except BaseException as exc:  # the run never stays RUNNING
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        mlflow.set_tag(f"{TAG}.error", message[:1000])
        import traceback

        mlflow.log_text("".join(traceback.format_exception(exc)), ERROR_FILE)
        status = "FAILED"
    mlflow.end_run(status)


def _score_all(plan: _Plan, run_id: str) -> dict[int, str]:
    """Score every partition, logging progress; the failed ones, by index, with why.

    Progress goes to the store at most every `PROGRESS_SECONDS` and after the last partition: a
    write per partition costs the kernel more CPU than a cheap model's partition costs a worker.
    """
    from mlflow.entities import Metric

    from nbstudio.session import get_session

    client = get_session().client()
    done = rows = 0
    logged = 0
    last = -math.inf
    failed: dict[int, str] = {}
    total = len(plan.parts)

    def progress(result: dict[str, Any] | None, part: partitioning.Partition, error: Any) -> None:
        nonlocal done, rows, logged, last
        if error is not None:
            first = str(error).splitlines()[0] if str(error) else type(error).__name__
            failed[part.index] = f"{part.label}: {type(error).__name__}: {first}"
        else:
            done += 1
            rows += result["rows"]
        now = time.monotonic()
        if done > logged and (now - last >= PROGRESS_SECONDS or done + len(failed) == total):
            stamp = int(time.time() * 1000)
            client.log_batch(
                run_id,
                metrics=[
                    Metric("rows_scored", rows, stamp, done),
                    Metric("partitions_done", done, stamp, done),
                ],
            )
            logged, last = done, now

    if plan.address is None:
        dispatch.score_local(plan, progress)
    else:
        dispatch.score_dask(plan, progress)
    return failed
