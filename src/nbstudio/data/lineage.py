"""Lineage as plain MLflow: which runs read a data version, which run wrote it.

- Reading inside a run logs an MLflow dataset input: a ``MetaDataset`` named after the asset with
  our content digest (its first 32 hex characters: MLflow's column holds 36) and the schema read
  from the file's header, with context ``training``/``validation``/``scoring`` and the version as
  an input tag. ``mlflow ui`` shows it; ``search_runs("dataset.name = 'wine'")`` finds the run.
- MLflow has no dataset outputs, so writing inside a run records the run as the version's
  ``produced_by`` and adds ``name@version`` to the run's ``nbstudio.data.outputs`` tag.
"""

from __future__ import annotations

import threading
from typing import Any

from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException

from nbstudio.data import versions
from nbstudio.data.errors import DataError
from nbstudio.session import Session

TAG_INPUT_VERSION = "nbstudio.data.version"
CONTEXTS = ("training", "validation", "testing", "scoring", "evaluation")
_logged: set[tuple[str, str, str, str]] = set()
_logged_lock = threading.Lock()


def source(url: str) -> Any:
    """MLflow's own source type for the URL (local file, s3, ...), else a plain URL source."""
    import warnings

    from mlflow.data.dataset_source_registry import resolve_dataset_source
    from mlflow.data.http_dataset_source import HTTPDatasetSource

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "can be interpreted in multiple ways"
            return resolve_dataset_source(url)
    except Exception:
        return HTTPDatasetSource(url)


def dataset(name: str, digest: str, url: str, schema: Any) -> Any:
    """Data as an MLflow dataset: named after the asset, our digest (cut to MLflow's column)."""
    from mlflow.data.meta_dataset import MetaDataset

    return MetaDataset(source=source(url), name=name, digest=digest[:32], schema=schema)


def input_tags(version: int | None) -> dict[str, str] | None:
    """The tags of a dataset input naming the asset version read (None: not a version)."""
    return {TAG_INPUT_VERSION: str(version)} if version else None


def record_input(
    name: str,
    digest: str,
    url: str,
    schema: Any,
    context: str,
    version: int | None = None,
) -> str | None:
    """Log the data as an input of the active MLflow run (once per run); its run id, or None."""
    import mlflow

    run = mlflow.active_run()
    if run is None:
        return None
    key = (run.info.run_id, name, digest[:32], context)
    with _logged_lock:
        if key in _logged:
            return run.info.run_id
        _logged.add(key)
    data = dataset(name, digest, url, schema)
    try:
        mlflow.log_input(data, context=context, tags=input_tags(version))
    except MlflowException as exc:
        with _logged_lock:
            _logged.discard(key)
        raise DataError(f"Cannot record {name} as an input of the run: {exc.message}") from None
    return run.info.run_id


def record_output(session: Session, version: versions.DataVersion, run_id: str) -> None:
    """Name the version among the run's outputs (its ``nbstudio.data.outputs`` tag)."""
    client = session.client()
    current = client.get_run(run_id).data.tags.get(versions.TAG_OUTPUTS, "")
    names = [n for n in current.split(", ") if n]
    if version.reference not in names:
        names.append(version.reference)
        client.set_tag(run_id, versions.TAG_OUTPUTS, ", ".join(names))


def _visible_experiments(session: Session) -> list[str]:
    client = session.client()
    hidden = versions.experiment_id(session)
    ids, token = [], None
    while True:
        page = client.search_experiments(ViewType.ALL, max_results=1000, page_token=token)
        ids.extend(e.experiment_id for e in page if e.experiment_id != hidden)
        token = page.token
        if not token:
            return ids


def _summary(run: Any, context: str | None = None) -> dict[str, Any]:
    return {
        "run_id": run.info.run_id,
        "run_name": run.info.run_name,
        "experiment_id": run.info.experiment_id,
        "status": run.info.status,
        "start_time": run.info.start_time,
        **({"context": context} if context else {}),
    }


def _context_for(run: Any, version: versions.DataVersion) -> str | None:
    """The context this run read ``version`` in, or None if it read another version."""
    for item in run.inputs.dataset_inputs if run.inputs else []:
        ds = item.dataset
        if ds.name != version.name or ds.digest != version.mlflow_digest:
            continue
        tags = {t.key: t.value for t in item.tags}
        if tags.get(TAG_INPUT_VERSION, str(version.version)) != str(version.version):
            continue  # the same bytes registered again as another version
        return tags.get("mlflow.data.context", "")
    return None


def _filter(version: versions.DataVersion) -> str:
    return f"dataset.name = '{version.name}' AND dataset.digest = '{version.mlflow_digest}'"


def used_by(session: Session, version: versions.DataVersion, limit: int = 200) -> list[dict]:
    """Runs that read ``version`` (newest first), with the context they read it in."""
    client = session.client()
    filter_string = _filter(version)
    try:
        runs = client.search_runs(
            _visible_experiments(session),
            filter_string,
            ViewType.ALL,
            max_results=limit,
            order_by=["attributes.start_time DESC"],
        )
    except MlflowException as exc:
        raise DataError(
            f"Cannot search the runs using {version.reference}: {exc.message}"
        ) from None
    out = []
    for run in runs:
        context = _context_for(run, version)
        if context is not None:
            out.append(_summary(run, context))
    return out


def search_runs(session: Session, version: versions.DataVersion) -> Any:
    """``mlflow.search_runs`` over every experiment for the runs that read ``version``."""
    import mlflow

    ids = {r["run_id"] for r in used_by(session, version, limit=1000)}
    frame = mlflow.search_runs(
        experiment_ids=_visible_experiments(session), filter_string=_filter(version)
    )
    return frame[frame["run_id"].isin(ids)].reset_index(drop=True)


def produced_by(session: Session, version: versions.DataVersion) -> dict[str, Any] | None:
    """The run that wrote ``version``, if it was made inside one."""
    if not version.produced_by:
        return None
    try:
        return _summary(session.client().get_run(version.produced_by))
    except MlflowException:
        return {"run_id": version.produced_by, "run_name": None, "status": "DELETED"}


def run_data(session: Session, run_id: str) -> dict[str, Any]:
    """A run's data inputs (with the asset version each one is) and the versions it produced."""
    client = session.client()
    try:
        run = client.get_run(run_id)
    except MlflowException:
        from nbstudio.data.errors import DataNotFoundError

        raise DataNotFoundError(f"No run {run_id!r}.") from None
    records = versions.all_versions(session)
    by_digest = {(v.name, v.mlflow_digest): v for v in records}
    by_ref = {(v.name, v.version): v for v in records}
    inputs = []
    for item in run.inputs.dataset_inputs if run.inputs else []:
        ds = item.dataset
        tags = {t.key: t.value for t in item.tags}
        number = tags.get(TAG_INPUT_VERSION)
        found = (
            by_ref.get((ds.name, int(number))) if number else by_digest.get((ds.name, ds.digest))
        )
        inputs.append(
            {
                "name": ds.name,
                "digest": ds.digest,
                "context": tags.get("mlflow.data.context", ""),
                "version": found.version if found else None,
                "type": found.type if found else None,
                "size": found.size if found else None,
                "uri": found.uri if found else _source_uri(ds.source),
            }
        )
    outputs = [
        {
            "name": v.name,
            "version": v.version,
            "digest": v.digest,
            "type": v.type,
            "size": v.size,
            "uri": v.uri,
        }
        for v in records
        if v.produced_by == run_id
    ]
    outputs.sort(key=lambda o: (o["name"], o["version"]))
    return {"run_id": run_id, "inputs": inputs, "outputs": outputs}


def _source_uri(source_json: str) -> str | None:
    import json

    try:
        data = json.loads(source_json)
    except ValueError:
        return None
    return data.get("uri") or data.get("url") or data.get("path")
