"""MLTable files read with pyarrow: the part of Azure ML's YAML that describes a table.

Supported (anything else is refused with the list below, never ignored)::

    paths:                      # relative to the MLTable file's folder, or URLs
      - file: ./train.csv
      - folder: ./parts
      - pattern: ./logs/*.jsonl
    transformations:
      - read_delimited: {delimiter: ',', header: all_files_same_headers | no_header, encoding: utf8}
      - read_parquet
      - read_json_lines
      - keep_columns: [a, b]
      - drop_columns: [c]
      - take: 1000

The ``mltable`` package would bring azureml-dataprep and azure-core for the same result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from nbstudio.data import tabular
from nbstudio.data.errors import DataError, DataNotFoundError

FILE_NAME = "MLTable"
READERS = {
    "read_delimited": tabular.DELIMITED,
    "read_parquet": tabular.PARQUET,
    "read_json_lines": tabular.JSON_LINES,
}
COLUMN_STEPS = ("keep_columns", "drop_columns", "take")


@dataclass
class MLTable:
    """A parsed MLTable: its files, how to read them, and the column steps after."""

    folder: str
    paths: list[dict[str, str]]
    fmt: str
    options: dict[str, Any] = field(default_factory=dict)
    steps: list[tuple[str, Any]] = field(default_factory=list)

    def files(self, fs: Any) -> list[str]:
        """Every file the ``paths`` name, in a stable order."""
        out: list[str] = []
        for entry in self.paths:
            kind, target = next(iter(entry.items()))
            full = target if "://" in target else _join(self.folder, target)
            if kind == "file":
                if not fs.exists(full):
                    raise DataNotFoundError(f"MLTable path {target!r} does not exist ({full}).")
                out.append(full)
            elif kind == "folder":
                found = [p for p in fs.find(full) if p.rsplit("/", 1)[-1] != FILE_NAME]
                if not found:
                    raise DataNotFoundError(f"MLTable folder {target!r} holds no files ({full}).")
                out.extend(sorted(found))
            else:
                found = sorted(fs.glob(full))
                if not found:
                    raise DataNotFoundError(f"MLTable pattern {target!r} matches no file.")
                out.extend(found)
        return out

    def read(self, fs: Any) -> pa.Table:
        table = tabular.read_tables(fs, self.files(fs), self.fmt, self.options)
        for step, arg in self.steps:
            if step == "take":
                table = table.slice(0, _count(arg))
                continue
            columns = _columns(arg)
            missing = [c for c in columns if c not in table.column_names]
            if missing:
                raise DataError(f"MLTable {step}: no column {missing[0]!r} in {table.column_names}")
            keep = columns if step == "keep_columns" else None
            table = table.select(keep) if keep else table.drop_columns(columns)
        return table

    def schema(self, fs: Any) -> pa.Schema | None:
        files = self.files(fs)
        schema = tabular.arrow_schema(fs, files[0], self.fmt, self.options) if files else None
        if schema is None:
            return None
        for step, arg in self.steps:
            columns = _columns(arg) if step != "take" else []
            if step == "keep_columns":
                schema = pa.schema([schema.field(c) for c in columns if c in schema.names])
            elif step == "drop_columns":
                schema = pa.schema([f for f in schema if f.name not in columns])
        return schema


def _columns(arg: Any) -> list[str]:
    if isinstance(arg, str):
        return [arg]
    if isinstance(arg, list) and all(isinstance(c, str) for c in arg):
        return arg
    raise DataError(f"MLTable column step: {arg!r} is not a column name or a list of them.")


def _count(arg: Any) -> int:
    if isinstance(arg, int) and not isinstance(arg, bool) and arg >= 0:
        return arg
    raise DataError(f"MLTable take: {arg!r} is not a row count (a whole number >= 0).")


def _join(folder: str, relative: str) -> str:
    relative = relative.removeprefix("./")
    return f"{folder.rstrip('/')}/{relative}".rstrip("/")


def parse(text: str, folder: str) -> MLTable:
    """Parse MLTable YAML whose file lives in ``folder``."""
    import yaml

    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise DataError(f"The MLTable file in {folder} is not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise DataError(f"The MLTable file in {folder} must be a mapping with paths:.")
    paths = doc.get("paths") or []
    if not isinstance(paths, list) or not paths:
        raise DataError(f"The MLTable file in {folder} has no paths: (file, folder or pattern).")
    for entry in paths:
        if (
            not isinstance(entry, dict)
            or len(entry) != 1
            or next(iter(entry)) not in ("file", "folder", "pattern")
        ):
            raise DataError(f"MLTable paths entry {entry!r}: use file:, folder: or pattern:.")
    fmt, options, steps = None, {}, []
    for item in doc.get("transformations") or []:
        name, arg = (item, None) if isinstance(item, str) else next(iter(dict(item).items()))
        if name in READERS:
            fmt, options = READERS[name], dict(arg or {})
        elif name in COLUMN_STEPS:
            steps.append((name, arg))
        else:
            known = ", ".join([*READERS, *COLUMN_STEPS])
            raise DataError(
                f"MLTable transformation {name!r} is not supported (supported: {known})."
            )
    if fmt is None:
        first = str(next(iter(paths[0].values())))
        fmt = tabular.format_of(first) or tabular.DELIMITED
    return MLTable(folder, [{k: str(v) for k, v in e.items()} for e in paths], fmt, options, steps)


def load(fs: Any, folder: str) -> MLTable:
    """The MLTable in ``folder`` (the folder holding a file named ``MLTable``)."""
    path = _join(folder, FILE_NAME)
    try:
        with fs.open(path, "r", encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise DataNotFoundError(f"No MLTable file in {folder}.") from None
    return parse(text, folder)
