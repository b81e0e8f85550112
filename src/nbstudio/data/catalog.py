"""Browse the data assets: lists as DataFrames for a notebook, JSON dicts for the REST API.

Both read the same version records (`versions`) and lineage (`lineage`); nothing is cached here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from nbstudio.data import datastores, lineage, versions
from nbstudio.data.errors import DataError
from nbstudio.data.uris import AssetRef, parse
from nbstudio.session import Session, get_session

ASSET_COLUMNS = ["name", "latest", "versions", "type", "size", "digest", "datastore", "created"]
VERSION_COLUMNS = [
    "version",
    "type",
    "size",
    "files",
    "digest",
    "datastore",
    "produced_by",
    "archived",
    "created",
    "uri",
]


def _session(session: Session | None) -> Session:
    session = session or get_session()
    session.workspace  # noqa: B018 - opens the store
    return session


def _asset_ref(reference: str) -> AssetRef:
    ref = parse(reference)
    if not isinstance(ref, AssetRef):
        raise DataError(f"{reference!r} is not a data asset name (NAME or NAME@VERSION).")
    return ref


def assets_json(session: Session | None = None, query: str = "") -> list[dict[str, Any]]:
    """Every asset with its latest live version, newest first; ``query`` filters names/tags."""
    if not (session or get_session()).store_exists():
        return []
    session = _session(session)
    by_name: dict[str, list[versions.DataVersion]] = {}
    for v in versions.all_versions(session):
        by_name.setdefault(v.name, []).append(v)
    rows = []
    needle = query.strip().lower()
    for name, found in by_name.items():
        found.sort(key=lambda v: -v.version)
        live = [v for v in found if not v.archived]
        latest = (live or found)[0]
        text = " ".join([name, latest.description, *latest.tags.keys(), *latest.tags.values()])
        if needle and needle not in text.lower():
            continue
        rows.append(
            {
                **latest.to_dict(),
                "latest": latest.version,
                "version_count": len(found),
                "all_archived": not live,
            }
        )
    rows.sort(key=lambda r: -r["created"])
    return rows


def versions_json(name: str, session: Session | None = None) -> dict[str, Any]:
    session = _session(session)
    found = versions.versions_of(session, name)
    if not found:
        versions.get_version(session, name)  # raises the helpful not-found line
    return {"name": name, "versions": [v.to_dict() for v in found]}


def version_json(name: str, version: str, session: Session | None = None) -> dict[str, Any]:
    """One version with the runs that read it and the run that wrote it."""
    session = _session(session)
    ref = _asset_ref(f"{name}@{version}")
    record = versions.get_version(session, ref.name, ref.version)
    return {
        **record.to_dict(),
        "used_by": lineage.used_by(session, record),
        "produced_by_run": lineage.produced_by(session, record),
    }


def run_data_json(run_id: str, session: Session | None = None) -> dict[str, Any]:
    return lineage.run_data(_session(session), run_id)


def datastores_json(session: Session | None = None) -> list[dict[str, Any]]:
    ws = (session or get_session()).located_workspace()
    return [s.to_dict() for s in datastores.list_datastores(ws)]


# -- notebook / terminal ----------------------------------------------------------------------
def list_assets(query: str = "", session: Session | None = None) -> pd.DataFrame:
    """Data assets as a table (latest version, version count, size, digest, datastore)."""
    rows = assets_json(session, query)
    frame = pd.DataFrame(
        [
            {
                "name": r["name"],
                "latest": r["latest"],
                "versions": r["version_count"],
                "type": r["type"],
                "size": r["size"],
                "digest": r["digest"][:12],
                "datastore": r["datastore"] or "",
                "created": pd.to_datetime(r["created"], unit="ms"),
            }
            for r in rows
        ],
        columns=ASSET_COLUMNS,
    )
    return frame


def list_versions(name: str, session: Session | None = None) -> pd.DataFrame:
    """The versions of ``name``, newest first."""
    rows = versions_json(_asset_ref(name).name, session)["versions"]
    return pd.DataFrame(
        [
            {
                **{k: r[k] for k in VERSION_COLUMNS if k in r},
                "digest": r["digest"][:12],
                "datastore": r["datastore"] or "",
                "produced_by": r["produced_by"] or "",
                "created": pd.to_datetime(r["created"], unit="ms"),
            }
            for r in rows
        ],
        columns=VERSION_COLUMNS,
    )


@dataclass
class VersionDetail:
    """``%data show``: a version, the runs that read it, the run that wrote it."""

    record: versions.DataVersion
    used_by: list[dict[str, Any]] = field(default_factory=list)
    produced_by: dict[str, Any] | None = None

    def __repr__(self) -> str:
        r = self.record
        lines = [
            f"{r.reference}{' (archived)' if r.archived else ''}  {r.type}",
            f"  uri        {r.uri}",
            f"  datastore  {r.datastore or '-'}",
            f"  size       {r.size} bytes in {r.files} file(s)",
            f"  digest     sha256:{r.digest} ({r.hash_mode})",
        ]
        if r.tags:
            lines.append("  tags       " + ", ".join(f"{k}={v}" for k, v in sorted(r.tags.items())))
        if self.produced_by:
            p = self.produced_by
            lines.append(f"  produced by run {p['run_id']} ({p.get('run_name') or '?'})")
        lines.append(f"  used by {len(self.used_by)} run(s)")
        for run in self.used_by[:20]:
            lines.append(
                f"    {run['run_id']}  {run.get('run_name') or ''}  [{run.get('context') or '-'}]"
            )
        return "\n".join(lines)


def show(reference: str, session: Session | None = None) -> VersionDetail:
    session = _session(session)
    ref = _asset_ref(reference)
    record = versions.get_version(session, ref.name, ref.version)
    return VersionDetail(
        record, lineage.used_by(session, record), lineage.produced_by(session, record)
    )


def archive(reference: str, restore: bool = False, session: Session | None = None) -> Any:
    """Archive ``NAME@V`` (``latest`` skips it; reading it by number still works)."""
    session = _session(session)
    ref = _asset_ref(reference)
    if ref.version == "latest":
        raise DataError(f"Say which version to archive: {ref.name}@<number>.")
    return versions.set_archived(session, ref.name, ref.version, not restore)


def runs_using(reference: str, session: Session | None = None) -> pd.DataFrame:
    """``mlflow.search_runs`` for the runs that read this version (all experiments)."""
    session = _session(session)
    ref = _asset_ref(reference)
    return lineage.search_runs(session, versions.get_version(session, ref.name, ref.version))


def datastores_table(session: Session | None = None) -> pd.DataFrame:
    """The datastores as a table (name, URL, options, built in or not)."""
    return pd.DataFrame(
        [
            {
                "name": s.name,
                "url": s.url,
                "options": ", ".join(f"{k}={v}" for k, v in sorted(s.options.items())),
                "builtin": s.builtin,
                "description": s.description,
            }
            for s in list_datastores(session)
        ],
        columns=["name", "url", "options", "builtin", "description"],
    )


def list_datastores(session: Session | None = None) -> list[datastores.Datastore]:
    return datastores.list_datastores((session or get_session()).located_workspace())


def create_datastore(
    name: str,
    url: str,
    options: dict[str, Any] | None = None,
    description: str = "",
    session: Session | None = None,
) -> datastores.Datastore:
    ws = (session or get_session()).located_workspace()
    return datastores.create(ws, name, url, options, description)


def get_datastore(name: str, session: Session | None = None) -> datastores.Datastore:
    return datastores.get((session or get_session()).located_workspace(), name)


def delete_datastore(name: str, session: Session | None = None) -> None:
    datastores.delete((session or get_session()).located_workspace(), name)
