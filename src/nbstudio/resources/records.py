"""The record folder of a resource, ``.nbstudio/<kind>/<name>/``, and its locked JSON files.

Kernels, the Jupyter server, terminals and the resource's own process all read a record while
another may rewrite it. Every write replaces its file atomically (`nbstudio.jsonfile`), so a
reader never sees half a file, and every read-modify-write holds the record's file lock
(``<name>/.lock``) from the read to the write, so two processes changing one record at once
(the kernel scales while the panel stops) both keep their change.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Generic, TypeVar

from nbstudio.jsonfile import DamagedRecord, read_json, write_json
from nbstudio.processes import exclusive_lock
from nbstudio.resources.kind import Kind
from nbstudio.resources.record import now_ms

S = TypeVar("S")
T = TypeVar("T")


class ResourceRecords(Generic[S, T]):
    """The records of one kind in one workspace: ``folder`` is ``.nbstudio/<kind>``."""

    kind: Kind

    def __init__(self, folder: Path, kind: Kind | None = None) -> None:
        self.folder = folder
        if kind is not None:
            self.kind = kind

    # -- paths ---------------------------------------------------------------------------------
    def record_dir(self, name: str) -> Path:
        return self.folder / name

    def spec_path(self, name: str) -> Path:
        return self.record_dir(name) / self.kind.spec_file

    def status_path(self, name: str) -> Path:
        return self.record_dir(name) / self.kind.status_file

    def log_path(self, name: str) -> Path:
        return self.record_dir(name) / self.kind.log_file

    def names(self) -> list[str]:
        """Every recorded resource of this kind, by name."""
        if not self.folder.is_dir():
            return []
        return sorted(p.parent.name for p in self.folder.glob(f"*/{self.kind.spec_file}"))

    def exists(self, name: str) -> bool:
        return self.spec_path(name).is_file()

    # -- the spec: what the user asked for ----------------------------------------------------
    def read_spec(self, name: str) -> S | None:
        data = self._read(self.spec_path(name))
        return None if data is None else self.kind.spec_class.from_dict(data)

    def write_spec(self, spec: S) -> None:
        """Write a whole spec (a new resource; callers hold `locked` if one may exist). A change
        to an existing spec goes through `updating`, which keeps concurrent changes."""
        write_json(
            self.spec_path(spec.name),  # type: ignore[attr-defined]
            spec.to_dict(),  # type: ignore[attr-defined]
            private=self.kind.private_spec,
        )

    def create(self, spec: S, exists: Exception) -> None:
        """Write the spec of a new resource, or raise ``exists`` if one has that name: checked
        and written under the record's lock, so two creates of one name never both succeed."""
        name = spec.name  # type: ignore[attr-defined]
        with self.locked(name):
            if self.exists(name):
                raise exists
            self.write_spec(spec)

    @contextlib.contextmanager
    def updating(self, name: str) -> Iterator[S]:
        """Read the spec under the record's lock, let the caller change it, write it back.

        The write bumps ``generation`` so the resource's process knows it has something new to
        apply. Raises `missing` (the kind's "no such resource" error) if there is no record.
        """
        if not self.exists(name):
            raise self.missing(name)  # before its folder (and lock) would be created
        with self.locked(name):
            spec = self.read_spec(name)
            if spec is None:
                raise self.missing(name)
            yield spec
            spec.generation += 1  # type: ignore[attr-defined]
            self.write_spec(spec)

    def missing(self, name: str) -> Exception:
        """The error for a name without a record (a kind overrides it with its own message)."""
        return LookupError(f"No {self.kind.name} record named {name!r}.")

    @contextlib.contextmanager
    def locked(self, name: str) -> Iterator[None]:
        """Serialise changes to one record across processes."""
        with exclusive_lock(self.record_dir(name) / ".lock"):
            yield

    # -- the status: what the process reports --------------------------------------------------
    def read_status(self, name: str) -> T | None:
        """The last status, or None; a damaged file counts as none (its writer rewrites it)."""
        try:
            data = self._read(self.status_path(name))
        except DamagedRecord:
            return None
        return None if data is None else self.kind.status_class.from_dict(data)

    def write_status(self, name: str, status: T) -> None:
        status.updated = now_ms()  # type: ignore[attr-defined]
        write_json(self.status_path(name), status.to_dict())  # type: ignore[attr-defined]

    # -- files ---------------------------------------------------------------------------------
    def _read(self, path: Path) -> dict[str, Any] | None:
        return read_json(path)

    def remove(self, name: str) -> None:
        """Forget the record: its folder with spec, status and logs."""
        shutil.rmtree(self.record_dir(name), ignore_errors=True)

    def tail(self, path: Path, lines: int = 40) -> str:
        """The last ``lines`` lines of a log file ('' if it does not exist)."""
        try:
            with path.open("rb") as fh:
                fh.seek(0, os.SEEK_END)
                size = fh.tell()
                fh.seek(max(0, size - 64 * 1024))
                text = fh.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])
