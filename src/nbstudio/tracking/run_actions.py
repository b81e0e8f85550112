"""What a user changes about a run from the panel: its name, description, tags, and deletion.

Everything goes through MLflow's own client (``rename`` is ``set_tag("mlflow.runName")`` on the
run's info, the description is MLflow's ``mlflow.note.content`` tag, delete and restore are
MLflow's soft delete), so ``mlflow ui`` shows the same change and can undo it. Tags MLflow or
nbstudio read themselves (``mlflow.*``, ``nbstudio.*``) are refused by the tag editor: changing
them would silently break the run view, resume of a sweep, or MLflow's own pages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mlflow.entities import RunTag, ViewType
from mlflow.exceptions import MlflowException

from nbstudio.errors import NotFoundError, QueryError
from nbstudio.session import Session, get_session

#: MLflow's limits (mlflow.utils.validation): the run name column, tag keys and values.
MAX_NAME_LENGTH = 250
MAX_TAG_KEY_LENGTH = 250
MAX_TAG_VALUE_LENGTH = 8000
#: MLflow's batch limit on tags written at once.
MAX_TAGS_PER_EDIT = 100
#: Most deleted runs listed for an experiment.
MAX_DELETED = 500

TAG_DESCRIPTION = "mlflow.note.content"
_RESERVED_PREFIXES = ("mlflow.", "nbstudio.")


def _client(session: Session | None) -> Any:
    session = session or get_session()
    session.workspace  # noqa: B018 - opens the store
    return session.client()


def _get(client: Any, run_id: str) -> Any:
    try:
        return client.get_run(run_id)
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            raise NotFoundError(f"No run with id {run_id!r}.") from None
        raise


def run_meta(run_id: str, session: Session | None = None) -> dict[str, Any]:
    """``{run_id, run_name, lifecycle_stage, description, tags}``: what the run view edits."""
    run = _get(_client(session), run_id)
    tags = dict(sorted(run.data.tags.items()))
    return {
        "run_id": run.info.run_id,
        "run_name": run.info.run_name or "",
        "lifecycle_stage": run.info.lifecycle_stage,
        "description": tags.get(TAG_DESCRIPTION, ""),
        "tags": tags,
    }


def _check_tag_key(key: str) -> None:
    if not key.strip():
        raise QueryError("A tag key cannot be empty.")
    if key.startswith(_RESERVED_PREFIXES):
        raise QueryError(
            f"Tag {key[:60]!r} is one MLflow or nbstudio keep themselves "
            "(mlflow.*, nbstudio.*): choose another key."
        )
    if len(key) > MAX_TAG_KEY_LENGTH:
        raise QueryError(f"A tag key is at most {MAX_TAG_KEY_LENGTH} characters.")


def edit_run(
    run_id: str,
    name: str | None = None,
    description: str | None = None,
    set_tags: Mapping[str, str] | None = None,
    delete_tags: Sequence[str] = (),
    session: Session | None = None,
) -> dict[str, Any]:
    """Rename the run, set its description and add/remove tags (all checked before any write);
    answers `run_meta` after. An empty description removes it."""
    client = _client(session)
    run = _get(client, run_id)
    set_tags = dict(set_tags or {})
    if name is not None and not name.strip():
        raise QueryError("A run name cannot be empty.")
    if name is not None and len(name.strip()) > MAX_NAME_LENGTH:
        raise QueryError(f"A run name is at most {MAX_NAME_LENGTH} characters.")
    if description is not None and len(description) > MAX_TAG_VALUE_LENGTH:
        raise QueryError(f"A description is at most {MAX_TAG_VALUE_LENGTH} characters.")
    for key, value in set_tags.items():
        _check_tag_key(key)
        if len(value) > MAX_TAG_VALUE_LENGTH:
            raise QueryError(f"A tag value is at most {MAX_TAG_VALUE_LENGTH} characters.")
    for key in delete_tags:
        _check_tag_key(key)
    both = set(set_tags) & set(delete_tags)
    if both:
        raise QueryError(f"Tag {sorted(both)[0][:60]!r} is both set and deleted.")
    if len(set_tags) + len(delete_tags) > MAX_TAGS_PER_EDIT:
        raise QueryError(f"At most {MAX_TAGS_PER_EDIT} tags are changed at once.")
    if run.info.lifecycle_stage == "deleted":
        raise QueryError(f"Run {run_id} is deleted: restore it before editing it.")
    writes = [RunTag(k, v) for k, v in set_tags.items()]
    if description is not None and description.strip():
        writes.append(RunTag(TAG_DESCRIPTION, description))
    removals = [k for k in delete_tags if k in run.data.tags]
    if description is not None and not description.strip() and TAG_DESCRIPTION in run.data.tags:
        removals.append(TAG_DESCRIPTION)
    try:  # log_batch checks every tag (MLflow's key rules) before it writes any
        if writes:
            client.log_batch(run_id, tags=writes)
        if name is not None:
            client.update_run(run_id, name=name.strip())
        for key in removals:
            client.delete_tag(run_id, key)
    except MlflowException as exc:
        if exc.error_code != "INVALID_PARAMETER_VALUE":
            raise
        raise QueryError(" ".join(exc.message.split())[:300]) from None
    return run_meta(run_id, session)


def delete_run(run_id: str, session: Session | None = None) -> dict[str, Any]:
    """MLflow's soft delete: the run leaves searches and the panel's lists until restored."""
    client = _client(session)
    if _get(client, run_id).info.lifecycle_stage != "deleted":
        client.delete_run(run_id)
    return run_meta(run_id, session)


def restore_run(run_id: str, session: Session | None = None) -> dict[str, Any]:
    """Undo `delete_run` (while MLflow's garbage collection has not removed the run)."""
    client = _client(session)
    if _get(client, run_id).info.lifecycle_stage == "deleted":
        client.restore_run(run_id)
    return run_meta(run_id, session)


def deleted_runs(experiment_id: str, session: Session | None = None) -> dict[str, Any]:
    """``{"runs": [RunSummary...]}``: the experiment's deleted runs, newest first (at most 500),
    as MLflow's "Deleted" view lists them."""
    from nbstudio.tracking.browse import run_summary
    from nbstudio.tracking.clientreader import record_of

    client = _client(session)
    try:
        client.get_experiment(experiment_id)
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            raise NotFoundError(f"No experiment with id {experiment_id!r}.") from None
        raise
    runs = client.search_runs(
        [experiment_id],
        run_view_type=ViewType.DELETED_ONLY,
        max_results=MAX_DELETED,
        order_by=["attributes.start_time DESC"],
    )
    return {"runs": [run_summary(record_of(r)) for r in runs]}
