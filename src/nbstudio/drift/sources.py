"""Where a drift check's data comes from: `resolve` turns what the user gave into `Data`.

The current (or reference) data may be

- a data asset version, ``"wine-new@2"``: read when needed, recorded as the run's input;
- a pandas DataFrame;
- ``"endpoint:NAME"`` or ``"endpoint:NAME/DEPLOYMENT"``: the inputs an online endpoint sampled
  (``--collect-inputs``, see `nbstudio.endpoints.collector`), optionally only those since a time
  (``since="1h"``, ``"30m"``, ``"2d"`` or a datetime);
- a batch job (`nbstudio.batch.BatchJob`) or ``"batch:RUN_ID"``: the data asset version the job
  scored (its run's ``nbstudio.batch.input`` tag), so it is recorded as an input like any version.

`Data.source` (asset, endpoint, batch or dataframe) is recorded as tag ``nbstudio.drift.source``.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from nbstudio.drift.errors import DriftError

CONTEXT = "evaluation"
ENDPOINT = "endpoint:"
BATCH = "batch:"
_SINCE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass
class Data:
    """One side of a comparison: a label for people, and a frame or a data asset version."""

    label: str
    source: str  # asset | endpoint | batch | dataframe
    frame: pd.DataFrame | None = None
    asset: Any = None  # a `nbstudio.data.assets.DataAsset`, when it is a data version
    short: str | None = None  # for the run's name, when the label is a sentence

    def columns(self) -> list[str]:
        if self.frame is not None:
            return [str(c) for c in self.frame.columns]
        schema = self.asset.schema()
        if schema is not None and schema.has_input_names():
            return list(schema.input_names())
        return [str(c) for c in self.to_pandas().columns]

    def to_pandas(self) -> pd.DataFrame:
        if self.frame is None:
            self.frame = self.asset.to_pandas()
        return self.frame


def resolve(value: Any, role: str, since: Any = None) -> Data:
    """What ``value`` names, as `Data` (see the module); anything else is a one-line error."""
    if since is not None and not (isinstance(value, str) and value.startswith(ENDPOINT)):
        raise DriftError("since= / --since applies only to endpoint:NAME data.")
    if isinstance(value, pd.DataFrame):
        return Data(f"a DataFrame ({len(value)} rows)", "dataframe", frame=value)
    if _is_batch_job(value):
        return batch_input(value.run_id)
    if isinstance(value, str):
        if value.startswith(ENDPOINT):
            return endpoint_inputs(value[len(ENDPOINT) :], since)
        if value.startswith(BATCH):
            return batch_input(value[len(BATCH) :].strip())
        return _asset(value, "asset")
    raise DriftError(
        f"The {role} data must be a data asset version (NAME@VERSION), endpoint:NAME, "
        f"batch:RUN_ID, a batch job or a pandas DataFrame, not {type(value).__name__}."
    )


def _asset(reference: str, source: str, label: str | None = None) -> Data:
    from nbstudio import data

    asset = data.get(reference, context=CONTEXT)
    return Data(label or asset.reference, source, asset=asset)


def _is_batch_job(value: Any) -> bool:
    jobs = sys.modules.get("nbstudio.batch.jobs")  # a job exists only once its module is loaded
    return jobs is not None and isinstance(value, jobs.BatchJob)


# -- a batch job's input -----------------------------------------------------------------------
def batch_input(run_id: str) -> Data:
    """The data asset version batch job ``run_id`` scored."""
    from mlflow.exceptions import MlflowException

    from nbstudio.session import get_session

    if not re.fullmatch(r"[0-9a-f]{32}", run_id or ""):
        raise DriftError(f"batch:{run_id}: give a batch job's run id (32 hex digits).")
    try:
        run = get_session().client().get_run(run_id)
    except MlflowException:
        raise DriftError(f"batch:{run_id}: no run with this id in the workspace.") from None
    tags = run.data.tags
    reference = tags.get("nbstudio.batch.input")
    if tags.get("nbstudio.batch") != "true" or not reference:
        raise DriftError(
            f"batch:{run_id}: run {run.info.run_name or run_id} is not a batch job "
            "(see %batch jobs NAME)."
        )
    data = _asset(reference, "batch", f"{reference} (input of batch job {run_id[:8]})")
    data.short = f"{reference} (batch {run_id[:8]})"
    return data


# -- an endpoint's sampled inputs --------------------------------------------------------------
def parse_since(since: Any, now: datetime | None = None) -> datetime | None:
    """``"90m"``/``"1h"``/``"2d"``/``"1w"`` ago, or a datetime (naive: UTC), as aware UTC."""
    if since is None:
        return None
    now = now or datetime.now(UTC)
    if isinstance(since, datetime):
        return since if since.tzinfo else since.replace(tzinfo=UTC)
    if isinstance(since, str):
        match = _SINCE.match(since)
        if match:
            try:
                return now - timedelta(**{_UNITS[match[2]]: float(match[1])})
            except OverflowError:
                pass
        else:
            try:
                stamp = pd.Timestamp(since)
            except (ValueError, TypeError, OverflowError):
                stamp = None
            if stamp is not None and stamp is not pd.NaT:
                return parse_since(stamp.to_pydatetime(), now)
    shown = " ".join(str(since).split())[:40]
    raise DriftError(f"since {shown!r}: give e.g. 30m, 1h, 2d or a date-time (UTC).")


def endpoint_inputs(target: str, since: Any = None) -> Data:
    """The sampled inputs of endpoint ``NAME`` (every deployment) or ``NAME/DEPLOYMENT``."""
    from nbstudio.endpoints.collector import REQUEST_TIME
    from nbstudio.endpoints.errors import EndpointError
    from nbstudio.endpoints.records import check_name
    from nbstudio.endpoints.views import records

    name, _, deployment = target.strip().partition("/")
    try:
        check_name(name)
        if deployment:
            check_name(deployment, "deployment")
    except EndpointError as exc:
        raise DriftError(str(exc)) from None
    start = parse_since(since)
    label = f"endpoint {name}" + (f"/{deployment}" if deployment else "")
    root = records().collected_dir(name, deployment or None)
    pattern = "*/*.parquet" if deployment else "*/model_inputs/*/*.parquet"
    files = sorted(root.glob(pattern)) if root.is_dir() else []
    if start is not None:  # the day folders before `since` hold nothing newer
        files = [f for f in files if f.parent.name >= start.strftime("%Y-%m-%d")]
    frames = [_read(f) for f in files]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if start is not None and len(frame):
        frame = frame[frame[REQUEST_TIME] >= pd.Timestamp(start)]
    if not len(frame):
        when = f" since {start:%Y-%m-%d %H:%M:%S} UTC" if start is not None else ""
        raise DriftError(
            f"No inputs collected from {label}{when}: deploy with --collect-inputs RATE "
            "(e.g. 1 or 0.1) and send it traffic."
        )
    times = frame.pop(REQUEST_TIME)
    first, last = times.min(), times.max()
    return Data(
        f"{len(frame)} sampled rows of {label} ({first:%Y-%m-%d %H:%M:%S} to "
        f"{last:%Y-%m-%d %H:%M:%S} UTC)",
        "endpoint",
        frame=frame.reset_index(drop=True),
        short=f"{ENDPOINT}{target.strip()} ({len(frame)} rows)",
    )


def _read(path: Any) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # a damaged file: say which, do not guess
        raise DriftError(f"Cannot read collected inputs {path}: {exc}".splitlines()[0]) from None
