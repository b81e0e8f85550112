"""Read tabular files (CSV, Parquet, JSON lines) from any fsspec filesystem with pyarrow.

Also the cheap schema of a file (Parquet footer, first CSV block) that a run's dataset input
carries, and its translation into MLflow's column schema.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from nbstudio.data.errors import DataError, DataNotFoundError

DELIMITED = "delimited"
PARQUET = "parquet"
JSON_LINES = "json_lines"
_SUFFIXES = {
    ".csv": DELIMITED,
    ".tsv": DELIMITED,
    ".txt": DELIMITED,
    ".parquet": PARQUET,
    ".pq": PARQUET,
    ".jsonl": JSON_LINES,
    ".json": JSON_LINES,
}
_SCHEMA_BLOCK = 1 << 16


def format_of(path: str) -> str | None:
    """The tabular format of ``path`` by its suffix, or None if it is not a table."""
    lower = path.lower()
    for suffix, fmt in _SUFFIXES.items():
        if lower.endswith(suffix):
            return fmt
    return None


def files_of_one_format(fs: Any, root: str, reference: str, use: str) -> tuple[str, list[str]]:
    """The format and files of a file or folder read as one table (one format only); the error
    names the asset ``reference`` and what it could not be used for (``use``: "read", "score")."""
    found = [root] if fs.isfile(root) else sorted(fs.find(root))
    by_format: dict[str, list[str]] = {}
    for path in found:
        fmt = format_of(path)
        if fmt:
            by_format.setdefault(fmt, []).append(path)
    if len(by_format) != 1:
        what = "mixes formats" if by_format else "holds no CSV, Parquet or JSON-lines file"
        raise DataError(f"{reference} {what}: cannot {use} it as one table.")
    fmt, paths = next(iter(by_format.items()))
    return fmt, paths


def _csv_options(options: dict[str, Any], path: str, block: int | None = None) -> tuple:
    from pyarrow import csv

    delimiter = options.get("delimiter") or ("\t" if path.lower().endswith(".tsv") else ",")
    header = options.get("header", "all_files_same_headers")
    read = csv.ReadOptions(
        autogenerate_column_names=header == "no_header",
        encoding=options.get("encoding", "utf8"),
        skip_rows=int(options.get("skip_rows", 0) or 0),
        **({"block_size": block} if block else {}),
    )
    return read, csv.ParseOptions(delimiter=delimiter)


def read_table(fs: Any, path: str, fmt: str, options: dict[str, Any] | None = None) -> pa.Table:
    """One file as an Arrow table; a missing or unreadable file is one line."""
    from pyarrow import csv, json, parquet

    options = options or {}
    try:
        with fs.open(path, "rb") as fh:
            if fmt == PARQUET:
                return parquet.read_table(fh)
            if fmt == JSON_LINES:
                return json.read_json(fh)
            read, parse = _csv_options(options, path)
            return csv.read_csv(fh, read_options=read, parse_options=parse)
    except FileNotFoundError:
        raise DataNotFoundError(f"{path} does not exist (deleted or moved?).") from None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"Cannot read {path} as {fmt}: {first}") from None


def read_tables(fs: Any, paths: list[str], fmt: str, options: dict | None = None) -> pa.Table:
    if not paths:
        raise DataError("No files to read.")
    tables = [read_table(fs, p, fmt, options) for p in paths]
    if len(tables) == 1:
        return tables[0]
    try:
        return pa.concat_tables(tables, promote_options="default")
    except pa.ArrowInvalid as exc:
        raise DataError(f"The files do not share one schema: {exc}") from None


def arrow_schema(fs: Any, path: str, fmt: str, options: dict | None = None) -> pa.Schema | None:
    """The schema read from the file's header only (Parquet footer, first CSV/JSON block)."""
    from pyarrow import csv, json, parquet

    try:
        with fs.open(path, "rb") as fh:
            if fmt == PARQUET:
                return parquet.read_schema(fh)
            if fmt == JSON_LINES:
                return json.read_json(
                    pa.BufferReader(fh.read(_SCHEMA_BLOCK).rsplit(b"\n", 1)[0])
                ).schema
            read, parse = _csv_options(options or {}, path, block=_SCHEMA_BLOCK)
            return csv.open_csv(fh, read_options=read, parse_options=parse).schema
    except (OSError, pa.ArrowException, UnicodeDecodeError, ValueError):
        return None  # a schema is a courtesy; the input is logged without one


def mlflow_schema(schema: pa.Schema | None) -> Any:
    """MLflow's column schema for an Arrow schema (None if there is none)."""
    if schema is None:
        return None
    from mlflow.types import ColSpec, DataType, Schema

    def kind(t: pa.DataType) -> DataType:
        if pa.types.is_boolean(t):
            return DataType.boolean
        if pa.types.is_integer(t):
            return DataType.long if t.bit_width > 32 else DataType.integer
        if pa.types.is_float32(t):
            return DataType.float
        if pa.types.is_floating(t) or pa.types.is_decimal(t):
            return DataType.double
        if pa.types.is_timestamp(t) or pa.types.is_date(t):
            return DataType.datetime
        if pa.types.is_binary(t) or pa.types.is_large_binary(t):
            return DataType.binary
        return DataType.string

    return Schema([ColSpec(kind(f.type), f.name) for f in schema])
