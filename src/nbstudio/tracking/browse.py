"""What the side panel shows: experiments, pages of runs, one run, a metric chart, an artifact.

Every function returns the JSON-ready dict of the REST API (docs in README "REST API"), so the
server's handlers only validate and forward. Runs are read through the session's `RunReader`
(`nbstudio.tracking.readers`): SQL over MLflow's tables or ``MlflowClient``, same answers.

JSON has no NaN or infinity: such metric values are sent as ``null``.
"""

from __future__ import annotations

import base64
import math
import mimetypes
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID, MLFLOW_RUN_NAME

import nbstudio
from nbstudio import pagetoken
from nbstudio.errors import NotFoundError, QueryError
from nbstudio.session import Session, get_session
from nbstudio.tracking.at_once import at_once
from nbstudio.tracking.context import TAG_NOTEBOOK
from nbstudio.tracking.readers import RunReader, run_reader
from nbstudio.tracking.run_records import RunRecord

TAG_PRIMARY_METRIC = "nbstudio.primary_metric"
# The tags a run summary needs; a page of runs loads only these.
SUMMARY_TAGS = (MLFLOW_RUN_NAME, MLFLOW_PARENT_RUN_ID, TAG_PRIMARY_METRIC)
MAX_PAGE_SIZE = 500
MAX_ARTIFACTS = 500
MAX_CHILDREN = 1000
MAX_TEXT_BYTES = 1024 * 1024
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_PATH_BYTES = 4096  # Linux's PATH_MAX; each name at most 255 bytes
IMAGE_TYPES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".svg"}


# -- plumbing ----------------------------------------------------------------------------------
def _json_float(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return value


def run_summary(record: RunRecord) -> dict[str, Any]:
    """A run as the API's RunSummary."""
    duration = None
    if record.start_time is not None and record.end_time is not None:
        duration = max(0, record.end_time - record.start_time) / 1000.0
    primary_key = record.tags.get(TAG_PRIMARY_METRIC) or min(record.metrics, default=None)
    primary = None
    if primary_key is not None:
        primary = {"key": primary_key, "value": _json_float(record.metrics.get(primary_key))}
    return {
        "run_id": record.run_id,
        "run_name": record.run_name,
        "experiment_id": record.experiment_id,
        "status": record.status,
        "start_time": record.start_time,
        "end_time": record.end_time,
        "duration": duration,
        "params": dict(sorted(record.params.items())),
        "metrics": {k: _json_float(v) for k, v in sorted(record.metrics.items())},
        "parent_run_id": record.tags.get(MLFLOW_PARENT_RUN_ID),
        "primary_metric": primary,
    }


# -- workspace and experiments -----------------------------------------------------------------
def workspace_info(session: Session | None = None) -> dict[str, Any]:
    """Where the workspace is and which store it uses."""
    session = session or get_session()
    ws = session.located_workspace()  # reading where the workspace is creates nothing
    return {
        "root": str(ws.root),
        "tracking_uri": ws.tracking_uri,
        "artifact_root": str(ws.artifact_root),
        "default_experiment": session.default_experiment(),
        "embedded_store": ws.uses_embedded_store,
        "version": nbstudio.__version__,
    }


def list_experiments(session: Session | None = None) -> dict[str, Any]:
    """Active experiments with their run counts, newest activity first."""
    session = session or get_session()
    if not session.store_exists():
        return {"experiments": []}
    session.workspace  # noqa: B018 - opens the store
    reader = run_reader(session)
    experiments, counted = at_once(
        [lambda: _active_experiments(session.client()), reader.experiment_stats]
    )
    stats = {k: (v.run_count, v.last_activity) for k, v in counted.items()}
    rows = []
    for experiment in experiments:
        count, last = stats.get(str(experiment.experiment_id), (0, None))
        rows.append(
            {
                "experiment_id": str(experiment.experiment_id),
                "name": experiment.name,
                "run_count": count,
                "last_activity": last,
                "lifecycle_stage": experiment.lifecycle_stage,
            }
        )
    rows.sort(key=lambda r: (r["last_activity"] is not None, r["last_activity"] or 0), reverse=True)
    return {"experiments": rows}


def _active_experiments(client: Any) -> list[Any]:
    found, token = [], None
    while True:
        page = client.search_experiments(ViewType.ACTIVE_ONLY, max_results=1000, page_token=token)
        # Experiments holding nbstudio's own records (data asset versions) have their own views.
        found.extend(e for e in page if e.tags.get("nbstudio.hidden") != "true")
        token = page.token
        if not token:
            return found


# -- runs --------------------------------------------------------------------------------------
def _message(exc: BaseException) -> str:
    text = exc.message if isinstance(exc, MlflowException) else str(exc)
    return " ".join(str(text).split())


def search_runs(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str = "",
    order_by: Sequence[str] | None = None,
    page_size: int = 50,
    page_token: str | None = None,
    session: Session | None = None,
) -> dict[str, Any]:
    """One page of active runs, newest first unless ``order_by`` says otherwise.

    ``filter_string`` and ``order_by`` use MLflow's search syntax with MLflow's semantics;
    ``page_token`` is the ``next_page_token`` of the previous page. All active experiments are
    searched when ``experiment_ids`` is empty.
    """
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise QueryError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {page_size}.")
    session = session or get_session()
    if not session.store_exists():
        if experiment_ids:
            raise NotFoundError(f"No experiment with id {experiment_ids[0]!r}.")
        return {"runs": [], "next_page_token": None}
    session.workspace  # noqa: B018 - opens the store
    reader = run_reader(session)
    if experiment_ids:
        for experiment_id in experiment_ids:
            _check_experiment(reader, experiment_id)
        ids = [str(e) for e in experiment_ids]
    else:
        ids = [e.experiment_id for e in _active_experiments(session.client())]
        if not ids:
            return {"runs": [], "next_page_token": None}
    order = list(order_by or [])
    position = pagetoken.decode(page_token)
    try:
        page = reader.search(
            ids,
            filter_string or "",
            order,
            page_size,
            position["offset"],
            position["cursor"],
            SUMMARY_TAGS,
        )
    except MlflowException as exc:
        raise QueryError(_bad_search(filter_string, order, exc)) from None
    token = None
    if page.next_offset is not None:
        token = pagetoken.encode(offset=page.next_offset)
    elif page.next_cursor:
        token = pagetoken.encode(cursor=page.next_cursor)
    return {"runs": [run_summary(r) for r in page.runs], "next_page_token": token}


def _bad_search(filter_string: str, order_by: Sequence[str], exc: MlflowException) -> str:
    what = f"filter {filter_string!r}" if filter_string else "search"
    if order_by:
        what += f" ordered by {list(order_by)!r}"
    return f"Invalid {what}: {_message(exc)}"


def _check_experiment(reader: RunReader, experiment_id: str) -> None:
    if not reader.experiment_exists(experiment_id):
        raise NotFoundError(f"No experiment with id {experiment_id!r}.")


def _load_run(reader: RunReader, run_id: str) -> RunRecord:
    record = reader.load_run(run_id)
    if record is None:
        raise NotFoundError(f"No run with id {run_id!r}.")
    return record


def get_run(run_id: str, session: Session | None = None) -> dict[str, Any]:
    """One run with all its tags, its artifacts (recursive, at most 500) and its child runs."""
    session = session or get_session()
    session.workspace  # noqa: B018 - opens the store
    reader = run_reader(session)
    record = _load_run(reader, run_id)
    run = run_summary(record)
    run["tags"] = dict(sorted(record.tags.items()))
    run["notebook"] = record.tags.get(TAG_NOTEBOOK)
    run["source_name"] = record.tags.get("mlflow.source.name")
    child_runs = [run_summary(r) for r in reader.child_runs(run_id, SUMMARY_TAGS)]
    return {"run": run, "artifacts": _list_artifacts(record), "children": child_runs}


def _artifact_repo(record: RunRecord) -> Any:
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    return get_artifact_repository(record.artifact_uri)


def _list_artifacts(record: RunRecord) -> list[dict[str, Any]]:
    """Depth-first listing of the run's artifacts, at most `MAX_ARTIFACTS` entries."""
    if not record.artifact_uri:
        return []
    local = _local_root(record.artifact_uri)
    if local is not None:
        return _list_local(local) if local.is_dir() else []
    repo = _artifact_repo(record)
    found: list[dict[str, Any]] = []

    def walk(path: str | None) -> None:
        for info in repo.list_artifacts(path):
            if len(found) >= MAX_ARTIFACTS:
                return
            found.append(
                {
                    "path": info.path,
                    "is_dir": info.is_dir,
                    "file_size": None if info.is_dir else info.file_size,
                }
            )
            if info.is_dir:
                walk(info.path)

    walk(None)
    return found


def _list_local(root: Path) -> list[dict[str, Any]]:
    """Depth-first listing of a local artifact folder that never follows a link out of it.

    A link whose target leaves the folder (or is missing, or loops) is listed as a link, with no
    size and no target: its path is all the listing says. A link inside the folder is listed as
    what it points to, but a linked folder is not walked (its files are listed where they are).
    """
    base = root.resolve()
    found: list[dict[str, Any]] = []

    def walk(folder: Path, prefix: str) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            if len(found) >= MAX_ARTIFACTS:
                return
            path = f"{prefix}{entry.name}"
            if entry.is_symlink():
                found.append(_link_entry(base, Path(entry.path), path))
                continue
            is_dir = entry.is_dir(follow_symlinks=False)
            size = None if is_dir else entry.stat(follow_symlinks=False).st_size
            found.append({"path": path, "is_dir": is_dir, "file_size": size})
            if is_dir:
                walk(Path(entry.path), f"{path}/")

    walk(base, "")
    return found


def _link_entry(base: Path, link: Path, path: str) -> dict[str, Any]:
    try:
        target = link.resolve(strict=True)
    except (OSError, RuntimeError):
        target = None
    if target is None or not target.is_relative_to(base):
        return {"path": path, "is_dir": False, "file_size": None, "is_link": True}
    if target.is_dir():
        return {"path": path, "is_dir": True, "file_size": None}
    return {"path": path, "is_dir": False, "file_size": target.stat().st_size}


def metric_history(
    run_id: str, key: str, max_points: int = 2000, session: Session | None = None
) -> dict[str, Any]:
    """A metric's history in step order, downsampled (min/max per bucket) to ``max_points``."""
    if not 10 <= max_points <= 10_000:
        raise QueryError(f"max_points must be between 10 and 10000, got {max_points}.")
    session = session or get_session()
    session.workspace  # noqa: B018 - opens the store
    reader = run_reader(session)
    total, kept = reader.metric_history(run_id, key, max_points)
    if not total:
        _load_run(reader, run_id)  # a 404 if the run is unknown
    return {
        "key": key,
        "total_points": total,
        "downsampled": len(kept) < total,
        "points": [{"step": s, "timestamp": t, "value": _json_float(v)} for s, t, v in kept],
    }


# -- artifacts ---------------------------------------------------------------------------------
def _local_root(artifact_uri: str) -> Path | None:
    parsed = urlparse(artifact_uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "" and artifact_uri.startswith("/"):
        return Path(artifact_uri)
    return None


def _clean_artifact_path(path: str) -> str:
    """The artifact path as POSIX parts, refusing anything that could leave the run's folder."""
    if not path or "\x00" in path or "\\" in path:
        raise QueryError(f"Invalid artifact path {path!r}.")
    pure = PurePosixPath(path)
    if pure.is_absolute() or any(part in ("..", ".") for part in pure.parts):
        raise QueryError(
            f"Invalid artifact path {path!r}: it must stay inside the run's artifacts."
        )
    if len(path.encode()) > MAX_PATH_BYTES or any(len(p.encode()) > 255 for p in pure.parts):
        raise QueryError(f"Invalid artifact path {path[:60]!r}...: longer than a file path.")
    return pure.as_posix()


def artifact_preview(run_id: str, path: str, session: Session | None = None) -> dict[str, Any]:
    """A preview of one artifact file: text (first 1 MB), an image as a data URL, or binary."""
    clean = _clean_artifact_path(path)
    session = session or get_session()
    session.workspace  # noqa: B018 - opens the store
    record = _load_run(run_reader(session), run_id)
    if not record.artifact_uri:
        raise NotFoundError(f"Run {run_id} has no artifact {clean!r}.")
    local = _local_root(record.artifact_uri)
    if local is not None:
        return _preview_file(_local_file(local, clean, run_id), clean)
    with tempfile.TemporaryDirectory(prefix="nbstudio-artifact-") as tmp:
        parent = str(PurePosixPath(clean).parent)
        repo = _artifact_repo(record)
        listing = {i.path: i for i in repo.list_artifacts(None if parent == "." else parent)}
        info = listing.get(clean)
        if info is None:
            raise NotFoundError(f"Run {run_id} has no artifact {clean!r}.")
        if info.is_dir:
            raise QueryError(f"Artifact {clean!r} is a folder; ask for a file inside it.")
        return _preview_file(Path(repo.download_artifacts(clean, tmp)), clean)


def _local_file(root: Path, clean: str, run_id: str) -> Path:
    try:
        base = root.resolve()
        target = (base / clean).resolve()
        exists, is_dir = target.exists(), target.is_dir()
    except (OSError, RuntimeError) as exc:  # a link loop, a name the file system refuses
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "a link loop"
        raise QueryError(f"Artifact {clean[:200]!r} cannot be read: {reason}.") from None
    if not target.is_relative_to(base):  # a symlink pointing outside the run's artifacts
        raise QueryError(
            f"Invalid artifact path {clean!r}: it must stay inside the run's artifacts."
        )
    if not exists:
        raise NotFoundError(f"Run {run_id} has no artifact {clean!r}.")
    if is_dir:
        raise QueryError(f"Artifact {clean!r} is a folder; ask for a file inside it.")
    return target


def _preview_file(file: Path, clean: str) -> dict[str, Any]:
    size = file.stat().st_size
    result: dict[str, Any] = {"path": clean, "size": size}
    if file.suffix.lower() in IMAGE_TYPES:
        result["kind"] = "image"
        result["truncated"] = size > MAX_IMAGE_BYTES
        if size <= MAX_IMAGE_BYTES:
            mime = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            data = base64.b64encode(file.read_bytes()).decode("ascii")
            result["data_url"] = f"data:{mime};base64,{data}"
        return result
    with file.open("rb") as fh:
        chunk = fh.read(MAX_TEXT_BYTES)
    truncated = size > MAX_TEXT_BYTES
    text = _as_text(chunk, truncated)
    if text is None:
        result.update(kind="binary", truncated=False)
    else:
        result.update(kind="text", truncated=truncated, text=text)
    return result


def _as_text(chunk: bytes, truncated: bool) -> str | None:
    """UTF-8 text, or None for binary; a character cut by the 1 MB limit is dropped."""
    if b"\x00" in chunk:
        return None
    try:
        return chunk.decode("utf-8")
    except UnicodeDecodeError as exc:
        if truncated and exc.start >= len(chunk) - 3:
            return chunk[: exc.start].decode("utf-8", errors="strict")
        return None
