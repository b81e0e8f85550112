"""What scores one partition, on a Dask worker or in the kernel: read, predict, write.

The model is loaded once per process and kept, keyed by its pinned ``models:/NAME/VERSION``
URI, so a worker scoring its tenth partition of a job (or of the next job with the same model
version) does not load it again (the complaint of rikai #365). Each input file gives one Parquet
file in the output folder: the input's columns, the prediction column(s), ``source_file`` (the
file's path inside the input) and ``row_id`` (the row's 0-based position in that file). A retried
partition overwrites its files whole (written to a temporary name, then moved).

This module is imported on workers: nothing heavy at module level.
"""

from __future__ import annotations

import os
import threading
from typing import Any

SOURCE_COLUMN = "source_file"
ROW_COLUMN = "row_id"

_models: dict[str, Any] = {}
_models_lock = threading.Lock()
loads = 0  # models loaded by this process (tests read it on workers)


def model_for(uri: str) -> Any:
    """The pyfunc model at ``uri``, loaded once per process."""
    global loads
    with _models_lock:
        model = _models.get(uri)
        if model is None:
            import mlflow

            model = mlflow.pyfunc.load_model(uri)
            _models[uri] = model
            loads += 1
        return model


def installed(names: list[str]) -> dict[str, str | None]:
    """The installed version of each distribution (None when it is not installed)."""
    from importlib import metadata

    found: dict[str, str | None] = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def output_name(relpath: str) -> str:
    """``sub/part-1.csv`` -> ``sub__part-1.parquet``: one flat output file per input file."""
    stem = relpath.replace("/", "__")
    return stem.rsplit(".", 1)[0] + ".parquet" if "." in stem else stem + ".parquet"


def _with_predictions(frame: Any, predictions: Any) -> Any:
    import numpy as np
    import pandas as pd

    out = pd.DataFrame(index=frame.index)
    if isinstance(predictions, pd.DataFrame):
        cols = list(predictions.columns)
        if len(cols) == 1:
            out["prediction"] = predictions.iloc[:, 0].to_numpy()
        else:
            for c in cols:
                out[f"prediction_{c}"] = predictions[c].to_numpy()
        return out
    values = np.asarray(predictions)
    if values.ndim <= 1:
        out["prediction"] = values.reshape(-1)
    else:
        for j in range(values.shape[1]):
            out[f"prediction_{j}"] = values[:, j]
    return out


def _tables(fs: Any, partition: Any) -> list[tuple[str, Any]]:
    """(relpath, Arrow table) of each file, with the MLTable's column steps applied."""
    from nbstudio.data import tabular

    left = None
    out = []
    for path, rel in zip(partition.files, partition.relpaths, strict=True):
        table = tabular.read_table(fs, path, partition.fmt, partition.options)
        for step, arg in partition.steps:
            if step == "take":
                left = int(arg) if left is None else left
                table = table.slice(0, max(left, 0))
                left -= table.num_rows
            else:
                columns = [arg] if isinstance(arg, str) else list(arg)
                table = (
                    table.select(columns) if step == "keep_columns" else table.drop_columns(columns)
                )
        out.append((rel, table))
    return out


def _output_table(predictions: Any, relpath: str) -> Any:
    """The Arrow table of one output file: the prediction column(s), ``source_file``, ``row_id``.

    Built in Arrow (no pandas assignment of a repeated string, no thread pool per conversion):
    for a cheap model these conversions cost more than the prediction itself."""
    import numpy as np
    import pyarrow as pa

    table = pa.Table.from_pandas(predictions, preserve_index=False, nthreads=1)
    n = table.num_rows
    table = table.append_column(SOURCE_COLUMN, pa.repeat(pa.scalar(relpath, pa.string()), n))
    return table.append_column(ROW_COLUMN, pa.array(np.arange(n, dtype=np.int64)))


def _write_parquet(table: Any, out_fs: Any, target: str) -> None:
    """``table`` as one Parquet file at ``target``, written whole or not at all (a temporary name
    moved into place). Only the text columns are dictionary-encoded: trying it on every float
    column of a prediction output is most of the cost of a cheap model's write."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    text = [
        f.name
        for f in table.schema
        if pa.types.is_string(f.type)
        or pa.types.is_large_string(f.type)
        or pa.types.is_dictionary(f.type)
    ]
    staging = f"{target}.tmp-{os.getpid()}-{threading.get_ident()}"
    with out_fs.open(staging, "wb") as fh:
        pq.write_table(table, fh, use_dictionary=text or False)
    out_fs.mv(staging, target)


def score_partition(
    ctx: Any, model_uri: str, fs: Any, partition: Any, output_url: str
) -> dict[str, Any]:
    """Score one partition and write its output files; rows scored, files written and the
    seconds it took (what sizes the next tasks of the job)."""
    import time

    import fsspec

    started = time.perf_counter()
    if ctx is not None:
        from nbstudio.compute.worker import open_workspace

        open_workspace(ctx)
    model = model_for(model_uri)
    out_fs, out_root = fsspec.core.url_to_fs(output_url)
    rows, written = 0, []
    for rel, table in _tables(fs, partition):
        frame = table.to_pandas()
        scored = _output_table(_with_predictions(frame, model.predict(frame)), rel)
        name = output_name(rel)
        _write_parquet(scored, out_fs, f"{out_root.rstrip('/')}/{name}")
        rows += scored.num_rows
        written.append(name)
    seconds = time.perf_counter() - started
    return {"rows": rows, "files": written, "pid": os.getpid(), "seconds": seconds}


def score_partitions(
    ctx: Any, model_uri: str, fs: Any, partitions: list[Any], output_url: str
) -> dict[int, dict[str, Any] | None]:
    """Several partitions in one task (a cheap model's partitions are too short to be worth a
    task each): each one's result by index, None for one that raised (the job scores it again
    alone, with Dask's retries, so its own error is what gets reported)."""
    results: dict[int, dict[str, Any] | None] = {}
    for partition in partitions:
        try:
            results[partition.index] = score_partition(ctx, model_uri, fs, partition, output_url)
        except Exception:
            results[partition.index] = None
    return results
