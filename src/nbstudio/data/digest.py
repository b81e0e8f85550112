"""Content digests of files and folders: what makes a data version immutable and comparable.

A digest is the sha256 of a manifest listing every file as ``relative path, size, hash``, so any
edited byte, added, removed or renamed file changes it (MLflow's own dataset digest hashes the first
10,000 rows only and misses edits further down). Local files are hashed with sha256; their hashes
are cached by (size, mtime) in ``.nbstudio/data/hashes.json``, so re-checking an unchanged folder
costs one ``stat`` a file. A hash is trusted only if the file's mtime is older than the moment it
was hashed (git's "racily clean" rule: a write in the same clock tick would otherwise go unseen).
Remote files (s3, ...) use the store's own VersionId or ETag unless a full content hash is asked.
"""

from __future__ import annotations

import hashlib
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbstudio.data.errors import DataError, DataNotFoundError
from nbstudio.jsonfile import DamagedRecord, read_json, write_json

CONTENT = "content"
STORE = "store"  # ETag / VersionId given by the storage service
# A cached hash counts only if the file was last written this long before it was hashed.
RACY_NS = 50_000_000
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Entry:
    relpath: str
    size: int
    hash: str  # "sha256:<hex>", "etag:<etag>" or "versionid:<id>"


@dataclass
class Manifest:
    """The files of a data version, in path order, and what was hashed."""

    entries: list[Entry]
    mode: str = CONTENT
    rehashed: int = 0  # files whose content was read this time (not answered by the cache)

    @property
    def digest(self) -> str:
        h = hashlib.sha256()
        for e in self.entries:
            h.update(f"{e.relpath}\t{e.size}\t{e.hash}\n".encode())
        return h.hexdigest()

    @property
    def size(self) -> int:
        return sum(e.size for e in self.entries)

    @property
    def files(self) -> int:
        return len(self.entries)


@dataclass
class HashCache:
    """sha256 of local files by absolute path, valid while (size, mtime) stay the same."""

    path: Path | None
    entries: dict[str, list[Any]] = field(default_factory=dict)
    dirty: bool = False

    @classmethod
    def load(cls, path: Path | None) -> HashCache:
        if path is None:
            return cls(None)
        try:
            data = read_json(path) or {}
        except DamagedRecord:
            data = {}  # a cache: losing it costs one rehash, never a wrong answer
        return cls(path, dict(data.get("files", {})))

    def lookup(self, file: str, st: os.stat_result) -> str | None:
        hit = self.entries.get(file)
        if not hit or len(hit) != 4:
            return None
        size, mtime_ns, hashed_ns, digest = hit
        if (
            size == st.st_size
            and mtime_ns == st.st_mtime_ns
            and st.st_mtime_ns < hashed_ns - RACY_NS
        ):
            return digest
        return None

    def store(self, file: str, st: os.stat_result, hashed_ns: int, digest: str) -> None:
        self.entries[file] = [st.st_size, st.st_mtime_ns, hashed_ns, digest]
        self.dirty = True

    def save(self) -> None:
        if self.path is not None and self.dirty:
            write_json(self.path, {"files": self.entries})
            self.dirty = False


def _walk(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    files = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".nbstudio")]
        files.extend(Path(folder) / n for n in names)
    return sorted(files)


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def local_manifest(root: Path, cache: HashCache | None = None, full: bool = False) -> Manifest:
    """The manifest of a local file or folder; ``full`` ignores cached hashes."""
    root = Path(root)
    if not root.exists():
        raise DataNotFoundError(f"{root} does not exist (deleted or moved?).")
    cache = cache or HashCache(None)
    files = _walk(root)
    if root.is_dir() and not files:
        raise DataError(f"The folder {root} is empty: a data version needs at least one file.")
    stats: dict[Path, os.stat_result] = {}
    known: dict[Path, str] = {}
    for file in files:
        try:
            stats[file] = st = file.stat()
        except FileNotFoundError:
            raise DataNotFoundError(f"{file} vanished while it was being read.") from None
        except OSError as exc:
            raise DataError(f"Cannot read {file}: {exc.strerror}.") from None
        hit = None if full else cache.lookup(str(file), st)
        if hit is not None:
            known[file] = hit
    todo = [f for f in files if f not in known]
    if todo:
        refuse_files_open_for_writing(todo)
        hashed_ns = time.time_ns()
        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            for file, digest in zip(todo, pool.map(_safe_sha256, todo), strict=True):
                _check_unchanged(file, stats[file])
                known[file] = digest
                cache.store(str(file), stats[file], hashed_ns, digest)
    base = root if root.is_dir() else root.parent
    entries = [
        Entry(file.relative_to(base).as_posix(), stats[file].st_size, "sha256:" + known[file])
        for file in files
    ]
    return Manifest(entries, CONTENT, rehashed=len(todo))


def _safe_sha256(path: Path) -> str:
    try:
        return _sha256(path)
    except FileNotFoundError:
        raise DataNotFoundError(f"{path} vanished while it was being hashed.") from None
    except OSError as exc:
        raise DataError(f"Cannot read {path}: {exc.strerror}.") from None


def _check_unchanged(path: Path, before: os.stat_result) -> None:
    try:
        after = path.stat()
    except FileNotFoundError:
        raise DataNotFoundError(f"{path} vanished while it was being hashed.") from None
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        raise DataError(
            f"{path} changed while it was being hashed: another program is writing it. "
            "Wait until it is done, then create the version again."
        )


def refuse_files_open_for_writing(files: list[Path]) -> None:
    """One line naming the process if another process holds one of ``files`` open for writing.

    A version made of a half-written file would be immutable nonsense. Looked up only for files
    about to be hashed (never on a cached re-check), through each process's open files.
    """
    import psutil

    wanted = {os.path.realpath(f) for f in files}
    me = os.getpid()
    for proc in psutil.process_iter(["pid", "name"]):
        if proc.info["pid"] == me:
            continue
        try:
            opened = proc.open_files()
        except (psutil.Error, OSError):
            continue
        for item in opened:
            mode = getattr(item, "mode", "r")
            if item.path in wanted and mode != "r":
                raise DataError(
                    f"{item.path} is open for writing by process {proc.info['pid']} "
                    f"({proc.info['name']}): close it (finish writing) before making a version."
                )


def remote_manifest(fs: Any, root: str, full: bool = False) -> Manifest:
    """The manifest of a file or folder on an fsspec filesystem (s3, ...).

    The store's VersionId (or ETag) stands for the content unless ``full`` is set or the store
    gives neither; then the bytes are read and hashed.
    """
    if hasattr(fs, "invalidate_cache"):
        fs.invalidate_cache()  # s3fs keeps listings: a re-check must see today's ETags
    try:
        info = fs.info(root)
        if info.get("type") == "directory":
            found = fs.find(root, detail=True, withdirs=False)
            base = root.rstrip("/") + "/"
        else:
            found = {info["name"]: info}
            base = root.rsplit("/", 1)[0] + "/" if "/" in root else ""
    except FileNotFoundError:
        raise DataNotFoundError(
            f"{root} does not exist on {fs.protocol!r} (deleted or moved?)."
        ) from None
    except OSError as exc:
        raise DataError(f"Cannot list {root}: {exc}") from None
    if not found:
        raise DataError(f"{root} holds no files: a data version needs at least one.")
    entries = []
    read = 0
    strip = fs._strip_protocol(base) if base else ""
    for name in sorted(found):
        item = found[name]
        rel = name[len(strip) :] if strip and name.startswith(strip) else name.rsplit("/", 1)[-1]
        token = None if full else _store_token(item)
        if token is None:
            with fs.open(name, "rb") as fh:
                h = hashlib.sha256()
                while chunk := fh.read(_CHUNK):
                    h.update(chunk)
            token = "sha256:" + h.hexdigest()
            read += 1
        entries.append(Entry(rel, int(item.get("size") or 0), token))
    mode = CONTENT if read == len(entries) else STORE
    return Manifest(entries, mode, rehashed=read)


def _store_token(info: dict[str, Any]) -> str | None:
    for key, label in (("VersionId", "versionid"), ("ETag", "etag"), ("etag", "etag")):
        value = info.get(key)
        if value and value != "null":
            return f"{label}:{str(value).strip(chr(34))}"
    return None
