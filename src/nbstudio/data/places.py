"""Where bytes are: turn a datastore path, URL or local path into a filesystem and a path on it.

A record names data by the most stable form available: ``azureml://datastores/D/paths/P`` for
anything inside a datastore (the workspace can move, a bucket can be re-pointed), else the URL or
absolute path as given.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbstudio.data import datastores
from nbstudio.data.errors import DataError
from nbstudio.data.uris import AssetRef, DatastorePath, Location, parse
from nbstudio.workspace import Workspace


@dataclass
class Place:
    fs: Any
    path: str  # as the filesystem wants it: an absolute local path or bucket/key
    uri: str  # as a record keeps it
    datastore: str = ""

    @property
    def is_local(self) -> bool:
        protocol = self.fs.protocol
        return "file" in (protocol if isinstance(protocol, tuple) else (protocol,))

    @property
    def url(self) -> str:
        """A path a user can hand to pandas or fsspec: local path, or ``protocol://path``."""
        if self.is_local:
            return self.path
        protocol = self.fs.protocol
        protocol = protocol[0] if isinstance(protocol, tuple) else protocol
        return f"{protocol}://{self.path}"


def in_datastore(ws: Workspace, store: datastores.Datastore, path: str) -> Place:
    fs = store.filesystem()
    full = store.join(path)
    if store.protocol != "file":
        full = fs._strip_protocol(full)
    return Place(fs, full, str(DatastorePath(store.name, path.strip("/"))), store.name)


def resolve(ws: Workspace, text: str | DatastorePath | Location) -> Place:
    """The place a ``--path`` (or an unregistered reference) names."""
    ref = parse(text) if isinstance(text, str) else text
    if isinstance(ref, AssetRef):  # a bare word given as a path: a relative file name
        ref = Location(str(text))
    if isinstance(ref, DatastorePath):
        return in_datastore(ws, datastores.get(ws, ref.datastore), ref.path)
    if ref.is_local:
        local = Path(ref.url.removeprefix("file://")).expanduser()
        local = (local if local.is_absolute() else Path.cwd() / local).resolve()
        for name in datastores.BUILTIN:
            root = (ws.data_dir / datastores.FOLDER / name).resolve()
            if local == root or root in local.parents:
                rel = local.relative_to(root).as_posix() if local != root else ""
                return in_datastore(ws, datastores.get(ws, name), rel)
        return Place(datastores.open_filesystem("file"), str(local), str(local))
    protocol = ref.url.split("://", 1)[0]
    fs = datastores.open_filesystem(protocol)
    return Place(fs, fs._strip_protocol(ref.url), ref.url)


def from_record(ws: Workspace, uri: str) -> Place:
    """The place a version record's ``uri`` names now."""
    try:
        return resolve(ws, uri)
    except DataError as exc:
        raise DataError(f"Cannot reach {uri}: {exc}") from None
