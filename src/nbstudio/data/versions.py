"""Version records of data assets: MLflow runs of a hidden experiment, one run per version.

Why runs: a tracking server shows them to anyone (``mlflow ui``, ``mlflow.search_runs``) with no
store of our own, their tags are searchable with MLflow's filter syntax, and they never appear
among the registered models (the registry would have put data assets in the Models list of every
MLflow client). The experiment ``nbstudio-data-assets`` carries ``nbstudio.hidden=true`` so the
panel lists it under Data, not Experiments.

A version is immutable: its record is written once (only ``archived`` changes later) and pins the
data's location and content digest. Numbers are given under a workspace file lock, so two
processes creating versions at once get distinct numbers, and a version whose digest equals the
latest one is not created again: that latest version is returned.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from mlflow.entities import Run, ViewType
from mlflow.exceptions import MlflowException

from nbstudio.data.errors import DataError, DataNotFoundError
from nbstudio.data.uris import LATEST, check_name
from nbstudio.processes import exclusive_lock
from nbstudio.session import Session

EXPERIMENT = "nbstudio-data-assets"
TAG_HIDDEN = "nbstudio.hidden"
PREFIX = "nbstudio.data."
TAG_NAME = PREFIX + "name"
TAG_VERSION = PREFIX + "version"
TAG_USER = PREFIX + "tag."
TAG_OUTPUTS = PREFIX + "outputs"  # on a producing run: "name@version, ..."
TYPES = ("uri_file", "uri_folder", "mltable")
# The fields a record keeps as tags besides name and version.
_FIELDS = (
    "type",
    "uri",
    "datastore",
    "digest",
    "size",
    "files",
    "hash_mode",
    "produced_by",
    "description",
    "archived",
)


@dataclass
class DataVersion:
    """One immutable version of a data asset, as recorded."""

    name: str
    version: int
    type: str
    uri: str
    digest: str
    size: int = 0
    files: int = 0
    hash_mode: str = "content"
    datastore: str = ""
    produced_by: str = ""
    description: str = ""
    archived: bool = False
    created: int = 0
    tags: dict[str, str] = field(default_factory=dict)
    record_id: str = ""  # the MLflow run holding this record

    @property
    def reference(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def mlflow_digest(self) -> str:
        """The digest as MLflow stores it for a dataset input (its column holds 36 characters)."""
        return self.digest[:32]

    def __repr__(self) -> str:
        state = " (archived)" if self.archived else ""
        return f"{self.reference}{state}: {self.type}, sha256 {self.digest[:12]} -> {self.uri}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "type": self.type,
            "uri": self.uri,
            "digest": self.digest,
            "size": self.size,
            "files": self.files,
            "hash_mode": self.hash_mode,
            "datastore": self.datastore or None,
            "produced_by": self.produced_by or None,
            "description": self.description,
            "archived": self.archived,
            "created": self.created,
            "tags": dict(self.tags),
        }


def _from_run(run: Run) -> DataVersion:
    tags = run.data.tags
    return DataVersion(
        name=tags[TAG_NAME],
        version=int(tags[TAG_VERSION]),
        type=tags.get(PREFIX + "type", "uri_file"),
        uri=tags.get(PREFIX + "uri", ""),
        digest=tags.get(PREFIX + "digest", ""),
        size=int(tags.get(PREFIX + "size", 0) or 0),
        files=int(tags.get(PREFIX + "files", 0) or 0),
        hash_mode=tags.get(PREFIX + "hash_mode", "content"),
        datastore=tags.get(PREFIX + "datastore", ""),
        produced_by=tags.get(PREFIX + "produced_by", ""),
        description=tags.get(PREFIX + "description", ""),
        archived=tags.get(PREFIX + "archived") == "true",
        created=run.info.start_time or 0,
        tags={k[len(TAG_USER) :]: v for k, v in tags.items() if k.startswith(TAG_USER)},
        record_id=run.info.run_id,
    )


_experiment_ids: dict[str, str] = {}  # by tracking URI: one look-up per process


def experiment_id(session: Session) -> str:
    """The hidden experiment holding the version records (created on first use)."""
    uri = session.workspace.tracking_uri
    if uri not in _experiment_ids:
        _experiment_ids[uri] = _find_or_create_experiment(session)
    return _experiment_ids[uri]


def _find_or_create_experiment(session: Session) -> str:
    client = session.client()
    found = client.get_experiment_by_name(EXPERIMENT)
    if found is not None:
        if found.lifecycle_stage == "deleted":
            client.restore_experiment(found.experiment_id)
        return found.experiment_id
    ws = session.workspace
    location = None if ws.is_remote else (ws.artifact_root / EXPERIMENT).as_uri()
    try:
        return client.create_experiment(EXPERIMENT, location, tags={TAG_HIDDEN: "true"})
    except MlflowException:  # another process created it meanwhile
        found = client.get_experiment_by_name(EXPERIMENT)
        if found is None:
            raise
        return found.experiment_id


def _search(session: Session, filter_string: str) -> list[DataVersion]:
    client = session.client()
    eid = experiment_id(session)
    out, token = [], None
    try:
        while True:
            page = client.search_runs(
                [eid], filter_string, ViewType.ACTIVE_ONLY, max_results=1000, page_token=token
            )
            out.extend(_from_run(r) for r in page if TAG_NAME in r.data.tags)
            token = page.token
            if not token:
                return out
    except MlflowException as exc:
        raise DataError(f"Cannot read the data asset records: {exc.message}") from None


def all_versions(session: Session) -> list[DataVersion]:
    """Every version of every asset, archived ones included."""
    return _search(session, "")


def versions_of(session: Session, name: str, include_archived: bool = True) -> list[DataVersion]:
    """The versions of ``name``, newest first."""
    check_name(name)
    found = _search(session, f"tags.`{TAG_NAME}` = '{name}'")
    found.sort(key=lambda v: -v.version)
    return [v for v in found if include_archived or not v.archived]


def get_version(session: Session, name: str, version: str | int = LATEST) -> DataVersion:
    """Version ``version`` of ``name`` (``latest``: the newest not archived)."""
    versions = versions_of(session, name)
    if not versions:
        names = sorted({v.name for v in all_versions(session)})
        hint = f" Data assets: {', '.join(names)}." if names else " None is registered yet."
        raise DataNotFoundError(f"No data asset named {name!r}.{hint}")
    if str(version) == LATEST:
        live = [v for v in versions if not v.archived]
        if not live:
            raise DataNotFoundError(f"Every version of {name!r} is archived.")
        return live[0]
    for v in versions:
        if v.version == int(version):
            return v
    have = ", ".join(str(v.version) for v in versions)
    raise DataNotFoundError(f"Data asset {name!r} has no version {version} (versions: {have}).")


def create_version(session: Session, draft: DataVersion) -> tuple[DataVersion, bool]:
    """Record ``draft`` as the next version of its asset; (version, True if it is new).

    Under the workspace's lock: if the latest live version has the same digest, that version is
    returned instead (nothing written).
    """
    lock = session.workspace.data_dir / "data" / "versions.lock"
    with exclusive_lock(lock):
        existing = versions_of(session, draft.name)
        live = [v for v in existing if not v.archived]
        if live and live[0].digest == draft.digest:
            return live[0], False
        if existing and existing[0].type != draft.type:
            raise DataError(
                f"{draft.name} is a {existing[0].type} asset; a new version cannot be a "
                f"{draft.type}. Use another name."
            )
        draft.version = (existing[0].version if existing else 0) + 1
        draft.created = int(time.time() * 1000)
        tags = {TAG_NAME: draft.name, TAG_VERSION: str(draft.version)}
        for key in _FIELDS:
            value = getattr(draft, key)
            if value not in ("", None, False):
                tags[PREFIX + key] = "true" if value is True else str(value)
        tags.update({TAG_USER + k: str(v) for k, v in draft.tags.items()})
        client = session.client()
        try:
            run = client.create_run(
                experiment_id(session),
                start_time=draft.created,
                tags=tags,
                run_name=draft.reference,
            )
            client.set_terminated(run.info.run_id, "FINISHED", end_time=draft.created)
        except MlflowException as exc:
            raise DataError(f"Cannot record {draft.reference}: {exc.message}") from None
        draft.record_id = run.info.run_id
        return draft, True


def set_archived(session: Session, name: str, version: str | int, archived: bool) -> DataVersion:
    """Archive (hide from ``latest`` and lists) or restore a version; its data stays."""
    found = get_version(session, name, version)
    session.client().set_tag(found.record_id, PREFIX + "archived", "true" if archived else "false")
    found.archived = archived
    return found
