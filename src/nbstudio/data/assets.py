"""Data assets: ``get`` one to read it, ``create`` a version of one, list and archive them.

A `DataAsset` is a handle on one immutable version (or on a bare datastore path). Reading it, by
``.path``, ``.fs``, ``.open()`` or ``.to_pandas()``, first checks that its bytes still match the
recorded digest (a stat per file thanks to the hash cache) and, inside an MLflow run, records it
as an input of that run.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from nbstudio.data import digest as digests
from nbstudio.data import lineage, mltable, places, tabular, versions
from nbstudio.data.errors import DataError, DataNotFoundError
from nbstudio.data.places import Place
from nbstudio.data.uris import AssetRef, parse
from nbstudio.data.versions import TYPES, DataVersion
from nbstudio.session import Session, get_session

AUTO, FULL = "auto", "full"
HASH_MODES = (AUTO, FULL)
COPY_PREFIX = "data"  # copies live under <datastore>/data/NAME/<digest>/


def _session(session: Session | None) -> Session:
    session = session or get_session()
    session.workspace  # noqa: B018 - opens the store and points MLflow at it
    return session


def hash_cache(session: Session) -> digests.HashCache:
    return digests.HashCache.load(session.workspace.data_dir / "data" / "hashes.json")


def manifest_of(session: Session, place: Place, hash_mode: str = AUTO) -> digests.Manifest:
    """The manifest of the data at ``place`` (local: sha256, cached; remote: ETag/VersionId)."""
    if hash_mode not in HASH_MODES:
        raise DataError(f"--hash {hash_mode!r}: use auto or full.")
    if place.is_local:
        cache = hash_cache(session)
        manifest = digests.local_manifest(Path(place.path), cache, full=hash_mode == FULL)
        cache.save()
        return manifest
    return digests.remote_manifest(place.fs, place.path, full=hash_mode == FULL)


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


class DataAsset:
    """One version of a data asset (or an unregistered datastore path), ready to read."""

    def __init__(
        self,
        session: Session,
        place: Place,
        record: DataVersion | None,
        context: str = "training",
        hash_mode: str = AUTO,
    ) -> None:
        self._session = session
        self._place = place
        self.record = record
        self.context = context
        self._hash_mode = hash_mode
        self._digest: str | None = record.digest if record else None
        self._checked = False

    # -- what it is ----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.record.name if self.record else self._place.uri

    @property
    def version(self) -> int | None:
        return self.record.version if self.record else None

    @property
    def type(self) -> str:
        if self.record:
            return self.record.type
        return "uri_file" if self._place.fs.isfile(self._place.path) else "uri_folder"

    @property
    def uri(self) -> str:
        return self._place.uri

    @property
    def digest(self) -> str:
        if self._digest is None:
            self._digest = manifest_of(self._session, self._place, self._hash_mode).digest
        return self._digest

    @property
    def reference(self) -> str:
        return self.record.reference if self.record else self._place.uri

    @property
    def place(self) -> Place:
        """Where the bytes are (filesystem, path, URI, datastore), without reading them: no
        digest check and no input recorded. For code that plans work on the files (a batch job
        splitting them into partitions) and reads them later, inside its own run."""
        return self._place

    # -- reading (each one records the input) ---------------------------------------------------
    @property
    def path(self) -> str:
        """A local path, or an fsspec URL (``s3://bucket/key``) for remote data."""
        self._use()
        return self._place.url

    @property
    def fs(self) -> Any:
        """The fsspec filesystem holding the data (paths on it: ``asset.files()``)."""
        self._use()
        return self._place.fs

    def files(self) -> list[str]:
        """Full paths on ``asset.fs`` of every file of the version."""
        self._use()
        fs, root = self._place.fs, self._place.path
        return [root] if fs.isfile(root) else sorted(fs.find(root))

    def open(self, relpath: str | None = None, mode: str = "rb") -> Any:
        """Open the file (``uri_file``) or the file ``relpath`` inside the folder."""
        if mode not in ("r", "rb"):
            raise DataError("Data versions are immutable: open them for reading ('r' or 'rb').")
        self._use()
        fs, root = self._place.fs, self._place.path
        target = root if relpath is None else f"{root.rstrip('/')}/{relpath.lstrip('/')}"
        if relpath is None and not fs.isfile(root):
            raise DataError(f"{self.reference} is a folder: asset.open('file-inside.csv').")
        try:
            return fs.open(target, mode)
        except FileNotFoundError:
            raise DataNotFoundError(f"{target} does not exist in {self.reference}.") from None
        except IsADirectoryError:
            raise DataError(f"{target} is a folder; open a file inside it.") from None

    def to_pandas(self) -> Any:
        """The data as a DataFrame: an MLTable, a CSV/Parquet/JSON-lines file or folder of them."""
        self._use()
        return self._table().to_pandas()

    def _table(self) -> Any:
        fs, root = self._place.fs, self._place.path
        if self.type == "mltable":
            return mltable.load(fs, root).read(fs)
        fmt, paths = tabular.files_of_one_format(fs, root, self.reference, "read")
        return tabular.read_tables(fs, paths, fmt)

    def schema(self) -> Any:
        """MLflow's column schema from the first file's header (None if not tabular)."""
        fs, root = self._place.fs, self._place.path
        try:
            if self.type == "mltable":
                return tabular.mlflow_schema(mltable.load(fs, root).schema(fs))
            first = root if fs.isfile(root) else next(iter(sorted(fs.find(root))), None)
        except DataError:
            return None
        fmt = tabular.format_of(first or "")
        return tabular.mlflow_schema(tabular.arrow_schema(fs, first, fmt)) if fmt else None

    def _use(self) -> None:
        self.check()
        lineage.record_input(
            self.name, self.digest, self._place.url, self.schema(), self.context, self.version
        )

    def mlflow_input(self) -> tuple[Any, dict[str, str] | None]:
        """This version as an MLflow dataset and its input tags, as reading it logs it."""
        url = self._place.url
        return lineage.dataset(self.name, self.digest, url, self.schema()), lineage.input_tags(
            self.version
        )

    def check(self) -> None:
        """Fail with one line if the version's bytes are gone or no longer match its digest."""
        if self._checked:
            return
        if not self._place.fs.exists(self._place.path):
            raise DataNotFoundError(
                f"The data of {self.reference} is gone: {self._place.uri} no longer exists "
                "(deleted or moved since the version was made)."
            )
        if self.record is not None:
            mode = FULL if self._hash_mode == FULL else AUTO
            if self.record.hash_mode == digests.CONTENT and not self._place.is_local:
                mode = AUTO if self._hash_mode != FULL else FULL
                if mode == AUTO:
                    self._checked = True
                    return  # hashed by content at creation; re-read only on --hash full
            now = manifest_of(self._session, self._place, mode).digest
            if now != self.record.digest:
                raise DataError(
                    f"{self.reference} changed since it was registered: its files no longer "
                    f"match digest {self.record.digest[:12]} (now {now[:12]}). Versions are "
                    f"immutable: register the new content as a new version of {self.name}."
                )
        self._checked = True

    def __repr__(self) -> str:
        r = self.record
        if r is None:
            return f"<data {self._place.uri}>"
        where = f" in {r.datastore}" if r.datastore else ""
        archived = " (archived)" if r.archived else ""
        return (
            f"{r.reference}{archived}: {r.type}, {r.files} file(s), {_human(r.size)}, "
            f"sha256 {r.digest[:12]}{where} -> {r.uri}"
        )


def get(
    reference: str,
    context: str = "training",
    hash: str = AUTO,
    session: Session | None = None,
) -> DataAsset:
    """``wine@3``, ``wine@latest``, ``azureml:wine:3`` or ``azureml://datastores/D/paths/x.csv``.

    Example:
        >>> wine = nbstudio.data.get("wine@latest")  # doctest: +SKIP
        >>> df = wine.to_pandas()  # inside a run: logged as its training input  # doctest: +SKIP
    """
    if context not in lineage.CONTEXTS:
        raise DataError(f"context {context!r}: use one of {', '.join(lineage.CONTEXTS)}.")
    session = _session(session)
    ref = parse(reference)
    ws = session.workspace
    if isinstance(ref, AssetRef):
        record = versions.get_version(session, ref.name, ref.version)
        return DataAsset(session, places.from_record(ws, record.uri), record, context, hash)
    return DataAsset(session, places.resolve(ws, ref), None, context, hash)


def lookup(text: str, session: Session | None = None) -> DataAsset | None:
    """The registered version ``text`` names (``wine@3``, ``azureml:wine:3``), or None when the
    string names none (a plain value that happens to hold an ``@``, or an unknown asset)."""
    if "@" not in text and not text.startswith("azureml:"):
        return None
    try:
        if not isinstance(parse(text), AssetRef):
            return None
        return get(text, session=session)
    except DataError:
        return None


def _infer_type(place: Place, asked: str | None) -> str:
    fs, root = place.fs, place.path
    is_file = fs.isfile(root)
    if asked is None:
        if is_file:
            return "mltable" if root.rsplit("/", 1)[-1] == mltable.FILE_NAME else "uri_file"
        return "mltable" if fs.exists(f"{root.rstrip('/')}/{mltable.FILE_NAME}") else "uri_folder"
    if asked not in TYPES:
        raise DataError(f"--type {asked!r}: use one of {', '.join(TYPES)}.")
    if asked == "uri_file" and not is_file:
        raise DataError(f"{place.uri} is a folder; use --type uri_folder (or mltable).")
    if asked in ("uri_folder", "mltable") and is_file and not root.endswith(mltable.FILE_NAME):
        raise DataError(f"{place.uri} is a file; use --type uri_file.")
    return asked


def _copy_into(session: Session, place: Place, name: str, digest: str, store: str) -> Place:
    """Copy the data into ``store`` under ``data/NAME/<digest>/`` (content-addressed, so a copy
    that exists already is the same bytes and is not made again)."""
    from nbstudio.data import datastores

    target_store = datastores.get(session.workspace, store)
    leaf = place.path.rstrip("/").rsplit("/", 1)[-1]
    is_file = place.fs.isfile(place.path)
    rel = f"{COPY_PREFIX}/{name}/{digest[:16]}" + (f"/{leaf}" if is_file else "")
    target = places.in_datastore(session.workspace, target_store, rel)
    if not target.fs.exists(target.path):
        try:
            if target.is_local:
                _copy_to_local(place, Path(target.path), is_file)
            elif place.is_local:
                target.fs.put(place.path, target.path, recursive=not is_file)
            else:
                with tempfile.TemporaryDirectory() as tmp:
                    place.fs.get(place.path, tmp + "/x", recursive=not is_file)
                    target.fs.put(tmp + "/x", target.path, recursive=not is_file)
        except OSError as exc:
            raise DataError(f"Cannot copy {place.uri} to {store}: {exc}") from None
    return target


def _copy_to_local(place: Place, target: Path, is_file: bool) -> None:
    """Copy into a staging name, make it read-only, then move it into place in one step."""
    import shutil

    staging = target.with_name(target.name + f".tmp{os.getpid()}")
    staging.parent.mkdir(parents=True, exist_ok=True)
    if place.is_local and is_file:
        shutil.copy2(place.path, staging)
    elif place.is_local:
        shutil.copytree(place.path, staging, ignore=shutil.ignore_patterns(".nbstudio*"))
    else:
        place.fs.get(place.path, str(staging), recursive=not is_file)
    for path in [staging, *staging.rglob("*")] if not is_file else [staging]:
        if path.is_file():
            path.chmod(0o444)  # an immutable copy: a stray write fails instead of corrupting it
    os.replace(staging, target)


def _write_frame(session: Session, frame: Any, name: str, store: str) -> Place:
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / f"{name}.parquet"
        frame.to_parquet(local, index=False)
        temp_place = places.resolve(session.workspace, str(local))
        digest = digests.local_manifest(local).digest
        return _copy_into(session, temp_place, name, digest, store)


def create(
    name: str,
    data: Any,
    type: str | None = None,
    datastore: str | None = None,
    copy: bool = False,
    tags: dict[str, str] | None = None,
    description: str = "",
    hash: str = AUTO,
    session: Session | None = None,
) -> DataAsset:
    """Create a new version of asset ``name`` from a path/URI or a pandas DataFrame.

    ``data`` may be a local path, ``s3://...``, ``azureml://datastores/D/paths/P`` or a
    DataFrame (written as Parquet into ``datastore``, default workspaceblobstore). ``copy``
    copies a path into the datastore first, so the version cannot change under it. If the
    content equals the latest version's, that version is returned. Inside an MLflow run, the
    run is recorded as the version's producer.
    """
    from nbstudio.data import datastores
    from nbstudio.data.uris import check_name

    check_name(name)
    session = _session(session)
    ws = session.workspace
    if hasattr(data, "to_parquet"):
        place = _write_frame(session, data, name, datastore or datastores.BLOB)
    elif isinstance(data, (str, os.PathLike)):
        text = os.fspath(data)
        if datastore and not copy and "://" not in text and not os.path.isabs(text):
            text = f"azureml://datastores/{datastore}/paths/{text}"
        place = places.resolve(ws, text)
        if not place.fs.exists(place.path):
            raise DataNotFoundError(f"{text} does not exist.")
        if copy:
            manifest = manifest_of(session, place, hash)
            place = _copy_into(session, place, name, manifest.digest, datastore or datastores.BLOB)
    else:
        raise DataError(
            f"Cannot make a data version of a {data.__class__.__name__}: give a path, a URI or "
            "a pandas DataFrame."
        )
    kind = _infer_type(place, type)
    if kind == "mltable" and place.fs.isfile(place.path):
        folder = place.path.rsplit("/", 1)[0]
        place = Place(place.fs, folder, place.uri.rsplit("/", 1)[0], place.datastore)
    if kind == "mltable":
        mltable.load(place.fs, place.path)  # a broken MLTable fails now, not at first read
    manifest = manifest_of(session, place, hash)
    import mlflow

    active = mlflow.active_run()
    draft = DataVersion(
        name=name,
        version=0,
        type=kind,
        uri=place.uri,
        digest=manifest.digest,
        size=manifest.size,
        files=manifest.files,
        hash_mode=manifest.mode,
        datastore=place.datastore,
        produced_by=active.info.run_id if active else "",
        description=description,
        tags={k: str(v) for k, v in (tags or {}).items()},
    )
    record, is_new = versions.create_version(session, draft)
    if is_new and active is not None:
        lineage.record_output(session, record, active.info.run_id)
    return DataAsset(session, place, record, hash_mode=hash)
