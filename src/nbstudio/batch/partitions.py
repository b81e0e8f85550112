"""The partitions of a batch job's input: groups of input files, scored as one task each.

A partition is ``mini_batch_size`` input files (Azure's mini-batch of a file input). Inputs are a
CSV, Parquet or JSON-lines file, a folder of them (every tabular file in it; other files left
out), or an MLTable, whose files are partitioned the same way and whose ``keep_columns`` /
``drop_columns`` steps are applied to each file (an MLTable with ``take`` is one partition, since
its row count applies to the whole table).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nbstudio.batch.errors import BatchError
from nbstudio.data.errors import DataError


@dataclass(frozen=True)
class Partition:
    index: int
    files: tuple[str, ...]  # full paths on the input's filesystem
    relpaths: tuple[str, ...]  # the same, relative to the input's root (the source_file column)
    fmt: str
    options: dict[str, Any] = field(default_factory=dict)
    steps: tuple[tuple[str, Any], ...] = ()

    @property
    def label(self) -> str:
        shown = ", ".join(self.relpaths[:3]) + (", ..." if len(self.relpaths) > 3 else "")
        return f"partition {self.index} ({shown})"


def _relative(root: str, path: str) -> str:
    prefix = root.rstrip("/") + "/"
    return path[len(prefix) :] if path.startswith(prefix) else path.rsplit("/", 1)[-1]


def plan(asset: Any, mini_batch_size: int) -> tuple[Any, list[Partition]]:
    """The filesystem and the partitions of a data asset version (or datastore path)."""
    from nbstudio.data import mltable, tabular

    asset.check()
    place = asset.place
    fs, root = place.fs, place.path
    options: dict[str, Any] = {}
    steps: tuple[tuple[str, Any], ...] = ()
    if asset.type == "mltable":
        table = mltable.load(fs, root)
        files, fmt, options = table.files(fs), table.fmt, dict(table.options)
        steps = tuple(table.steps)
        if any(step == "take" for step, _ in steps):
            mini_batch_size = max(len(files), 1)
    else:
        try:
            fmt, files = tabular.files_of_one_format(fs, root, asset.reference, "score")
        except DataError as exc:
            raise BatchError(str(exc)) from None
    if not files:
        raise BatchError(f"{asset.reference} holds no file to score.")
    base = root if not fs.isfile(root) else root.rsplit("/", 1)[0]
    parts = []
    for i in range(0, len(files), mini_batch_size):
        group = tuple(files[i : i + mini_batch_size])
        parts.append(
            Partition(
                index=len(parts),
                files=group,
                relpaths=tuple(_relative(base, f) for f in group),
                fmt=fmt,
                options=options,
                steps=steps,
            )
        )
    return fs, parts
