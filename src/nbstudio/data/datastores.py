"""Datastores: named places data lives, like Azure ML's workspaceblobstore and friends.

``workspaceblobstore`` and ``workspacefilestore`` always exist: folders under
``<workspace>/.nbstudio/datastores/``. Others are fsspec URLs (``s3://bucket/prefix`` through s3fs;
``abfs://`` or ``gs://`` when adlfs or gcsfs is installed; ``file:///shared/folder``) recorded as
``.nbstudio/datastores/NAME.json`` with their non-secret options (an ``endpoint_url``, a region).

Credentials are never written: a record holding an option that looks like a secret is refused, and
fsspec finds keys where it always does (environment variables, ``~/.aws``, fsspec config), so a
workspace folder can be shared without leaking them.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nbstudio.data.errors import DataError, DataNotFoundError
from nbstudio.jsonfile import DamagedRecord, read_json, write_json
from nbstudio.workspace import Workspace

BLOB = "workspaceblobstore"
FILE = "workspacefilestore"
BUILTIN = (BLOB, FILE)
FOLDER = "datastores"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,254}$")
_SECRET = re.compile(
    r"(key|secret|token|password|passwd|credential|sas|signature|session|auth)", re.IGNORECASE
)


@dataclass
class Datastore:
    """A named root URL plus the fsspec options to open it (never credentials)."""

    name: str
    url: str
    options: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    builtin: bool = False
    created: int = field(default_factory=lambda: int(time.time() * 1000))

    @property
    def protocol(self) -> str:
        return self.url.split("://", 1)[0] if "://" in self.url else "file"

    def filesystem(self) -> Any:
        """The fsspec filesystem of this datastore (one line if its library is missing)."""
        return open_filesystem(self.protocol, self.options)

    def join(self, path: str) -> str:
        """The full URL (or local path) of ``path`` inside this datastore."""
        root = self.root
        path = path.strip("/")
        return f"{root.rstrip('/')}/{path}" if path else root

    @property
    def root(self) -> str:
        """The root as fsspec's filesystem wants it: a local path, or ``bucket/prefix``."""
        if self.protocol == "file":
            return self.url.removeprefix("file://")
        return self.url

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v}" for k, v in sorted(self.options.items()))
        extra = f" ({options})" if options else ""
        kind = "built-in folder" if self.builtin else "datastore"
        return f"{kind} {self.name}: {self.url}{extra}"


def open_filesystem(protocol: str, options: dict[str, Any] | None = None) -> Any:
    """``fsspec.filesystem(protocol, **options)`` with a missing driver as one clear line."""
    import fsspec

    try:
        return fsspec.filesystem(protocol, **(options or {}))
    except ImportError as exc:
        package = {"s3": "s3fs", "abfs": "adlfs", "az": "adlfs", "gs": "gcsfs", "gcs": "gcsfs"}
        hint = package.get(protocol, str(exc))
        raise DataError(f"{protocol}:// needs the {hint} package: pip install {hint}") from None
    except ValueError as exc:
        raise DataError(f"Unknown storage protocol {protocol!r}: {exc}") from None
    except TypeError as exc:
        raise DataError(f"Bad option for {protocol}://: {exc}") from None


def _folder(ws: Workspace) -> Path:
    return ws.data_dir / FOLDER


def _builtin(ws: Workspace, name: str) -> Datastore:
    folder = _folder(ws) / name
    folder.mkdir(parents=True, exist_ok=True)
    description = "workspace blob storage" if name == BLOB else "workspace file share"
    return Datastore(name, folder.as_uri(), description=description, builtin=True, created=0)


def check_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise DataError(
            f"{name!r} is not a valid datastore name: a letter, then letters, digits or '_' "
            "(Azure ML's rule), e.g. training_blob."
        )
    return name


def _check_options(options: dict[str, Any]) -> None:
    for key in options:
        if _SECRET.search(key):
            raise DataError(
                f"--option {key}=...: credentials are never stored in the workspace. Give them "
                "through the environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, ...) or "
                "fsspec's config instead."
            )


def _normalise_url(url: str) -> str:
    url = url.strip()
    if not url:
        raise DataError("A datastore needs --url, e.g. s3://bucket/prefix or file:///data/shared")
    if "://" not in url:
        return Path(url).expanduser().resolve().as_uri()
    return url.rstrip("/") if not url.endswith("://") else url


def create(
    ws: Workspace, name: str, url: str, options: dict[str, Any] | None = None, description: str = ""
) -> Datastore:
    """Record datastore ``name`` at ``url``; a built-in name or an existing one is refused."""
    check_name(name)
    options = dict(options or {})
    _check_options(options)
    if name in BUILTIN:
        raise DataError(f"{name} is built in: it is always the folder {_folder(ws) / name}.")
    path = _folder(ws) / f"{name}.json"
    if path.exists():
        raise DataError(f"Datastore {name!r} exists; delete it first to point it elsewhere.")
    store = Datastore(name, _normalise_url(url), options, description)
    store.filesystem()  # an unknown protocol or a missing driver fails now, not at first read
    write_json(path, store.to_dict())
    return store


def get(ws: Workspace, name: str) -> Datastore:
    if name in BUILTIN:
        return _builtin(ws, name)
    path = _folder(ws) / f"{name}.json"
    try:
        data = read_json(path) if _NAME.match(name or "") else None
    except DamagedRecord as exc:
        raise DataError(str(exc)) from None
    if data is None:
        known = ", ".join(s.name for s in list_datastores(ws))
        raise DataNotFoundError(f"No datastore named {name!r} (datastores: {known}).")
    return Datastore(**{k: v for k, v in data.items() if k in Datastore.__dataclass_fields__})


def list_datastores(ws: Workspace) -> list[Datastore]:
    stores = [_builtin(ws, name) for name in BUILTIN]
    folder = _folder(ws)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            stores.append(get(ws, path.stem))
        except DataError:
            continue  # a damaged record does not hide the others
    return stores


def delete(ws: Workspace, name: str) -> None:
    """Forget a datastore record; its data is left where it is."""
    if name in BUILTIN:
        raise DataError(f"{name} is built in and cannot be deleted.")
    get(ws, name)
    (_folder(ws) / f"{name}.json").unlink(missing_ok=True)
