"""Data asset versions on a real workspace store: digests, immutability, concurrency, errors."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

import nbstudio.data as data
from nbstudio.data import digest
from nbstudio.data.errors import DataError, DataNotFoundError


def _age(path: Path, seconds: float = 10.0) -> None:
    """Make a file look written ``seconds`` ago (its hash may then be cached)."""
    past = time.time() - seconds
    os.utime(path, (past, past))


@pytest.fixture
def wine_csv(workspace: Path) -> Path:
    from sklearn.datasets import load_wine

    path = workspace / "wine.csv"
    load_wine(as_frame=True).frame.to_csv(path, index=False)
    _age(path)
    return path


def test_create_get_and_same_digest_returns_latest(wine_csv):
    first = data.create("wine", wine_csv, tags={"source": "sklearn"})
    again = data.create("wine", str(wine_csv))
    # rule: the first version is 1, and the same bytes again return that version, not a new one
    assert (first.version, again.version) == (1, 1)
    asset = data.get("wine@latest")
    assert asset.version == 1
    assert asset.record.tags == {"source": "sklearn"}
    # rule: a version reads back as the same table
    assert asset.to_pandas().shape == (178, 14)
    assert data.get("azureml:wine:1").digest == first.digest


def test_place_says_where_the_bytes_are_without_reading_or_recording(wine_csv):
    import mlflow

    data.create("wine", wine_csv)
    asset = data.get("wine@1")
    with mlflow.start_run() as run:
        place = asset.place
        # rule: the place is the version's file on its filesystem
        assert place.fs.isfile(place.path)
        assert Path(place.path).resolve() == wine_csv.resolve()
        assert place.uri == asset.uri
    # rule: asking where the bytes are is not a read: no input recorded on the active run
    assert mlflow.get_run(run.info.run_id).inputs.dataset_inputs == []
    with mlflow.start_run() as run:
        asset.fs  # noqa: B018 - a read
    # rule: whereas reading through the asset records it
    assert len(mlflow.get_run(run.info.run_id).inputs.dataset_inputs) == 1


def test_editing_any_byte_changes_the_digest_and_the_cache_answers_rechecks(workspace):
    folder = workspace / "parts"
    folder.mkdir()
    for i in range(3):
        (folder / f"p{i}.csv").write_text("a,b\n" + "".join(f"{j},{j * i}\n" for j in range(1000)))
        _age(folder / f"p{i}.csv")
    cache = digest.HashCache.load(workspace / "hashes.json")
    before = digest.local_manifest(folder, cache)
    cache.save()
    recheck = digest.local_manifest(folder, digest.HashCache.load(workspace / "hashes.json"))
    # rule: re-checking an unchanged folder hashes nothing (stat + cache only)
    assert recheck.rehashed == 0
    assert recheck.digest == before.digest
    target = folder / "p2.csv"
    text = target.read_text()
    stat = target.stat()
    target.write_text(text[:-3] + "9\n" + text[-1:] if text[-3] != "9" else text[:-3] + "8\n")
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    after = digest.local_manifest(folder, digest.HashCache.load(workspace / "hashes.json"))
    # rule: one changed byte in one file changes the folder's digest
    assert after.digest != before.digest
    assert after.rehashed == 1


def test_a_write_in_the_same_clock_tick_is_not_hidden_by_the_cache(workspace):
    path = workspace / "fresh.csv"
    path.write_text("a\n1\n")
    cache = digest.HashCache.load(workspace / "hashes.json")
    first = digest.local_manifest(path, cache)
    stat = path.stat()
    path.write_text("a\n2\n")  # same size; force the very same mtime
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    second = digest.local_manifest(path, cache)
    # rule: a hash taken right after a write is not trusted for a same-size, same-mtime rewrite
    assert second.digest != first.digest


def test_versions_are_immutable(wine_csv, workspace):
    data.create("wine", wine_csv)
    frame = pd.read_csv(wine_csv)
    frame.loc[100, "alcohol"] = 99.0
    frame.to_csv(wine_csv, index=False)
    with pytest.raises(DataError) as info:
        data.get("wine@1").to_pandas()
    # rule: a version whose files changed refuses to be read, in one line, naming what to do
    assert "changed since it was registered" in str(info.value)
    assert "\n" not in str(info.value)
    second = data.create("wine", wine_csv, copy=True)
    assert second.version == 2
    copied = Path(second.path)
    # rule: --copy puts the bytes in the workspace blob store, read-only
    assert ".nbstudio/datastores/workspaceblobstore/data/wine/" in copied.as_posix()
    assert not os.access(copied, os.W_OK) or os.geteuid() == 0
    assert copied.stat().st_mode & 0o222 == 0
    # rule: a record keeps its digest; the asset's reading API cannot open for writing
    with pytest.raises(DataError):
        data.get("wine@2").open(mode="wb")
    assert data.get("wine@2").digest == second.digest


def test_archive_hides_a_version_from_latest(wine_csv):
    data.create("wine", wine_csv)
    pd.read_csv(wine_csv).head(10).to_csv(wine_csv, index=False)
    data.create("wine", wine_csv)
    data.archive("wine@2")
    # rule: latest skips an archived version; reading it by number still works
    assert data.get("wine").version == 1
    assert data.get("wine@2").record.archived
    data.archive("wine@2", restore=True)
    assert data.get("wine").version == 2


MAKER = textwrap.dedent(
    """
    import sys, pathlib
    import nbstudio.data as data
    label, count = sys.argv[1], int(sys.argv[2])
    folder = pathlib.Path("inputs")
    pathlib.Path(f"ready-{label}").write_text("")
    while not pathlib.Path("go").exists():
        pass
    for i in range(count):
        path = folder / f"{label}-{i}.csv"
        print(data.create("shared", path).version, flush=True)
    """
)


def test_two_processes_creating_versions_get_distinct_numbers(workspace):
    folder = workspace / "inputs"
    folder.mkdir()
    count = 4
    for label in "ab":
        for i in range(count):
            (folder / f"{label}-{i}.csv").write_text(f"x\n{label}{i}\n")
            _age(folder / f"{label}-{i}.csv")
    data.list_assets()  # the store exists before the race
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", MAKER, label, str(count)],
            cwd=workspace,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for label in "ab"
    ]
    try:
        deadline = time.monotonic() + 60
        while not all((workspace / f"ready-{label}").exists() for label in "ab"):
            assert time.monotonic() < deadline, "the makers did not start"
            time.sleep(0.1)
        (workspace / "go").write_text("")
        outputs = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert all(p.returncode == 0 for p in procs), outputs
    numbers = [int(n) for out, _ in outputs for n in out.split()]
    recorded = sorted(data.list_versions("shared")["version"])
    # rule: concurrent creation loses no version and gives no number twice
    assert sorted(numbers) == recorded == list(range(1, 2 * count + 1))


def test_vanished_paths_are_one_line_errors(wine_csv, workspace):
    with pytest.raises(DataNotFoundError) as info:
        data.create("ghost", workspace / "missing.csv")
    # rule: a path that does not exist is one line
    assert "does not exist" in str(info.value)
    assert "\n" not in str(info.value)
    data.create("wine", wine_csv)
    wine_csv.unlink()
    with pytest.raises(DataNotFoundError) as info:
        data.get("wine@1").to_pandas()
    # rule: a version whose data vanished says so, in one line
    assert "is gone" in str(info.value)
    assert "\n" not in str(info.value)


HOLDER = textwrap.dedent(
    """
    import sys, time
    fh = open(sys.argv[1], "a")
    fh.write("more,rows\\n")
    fh.flush()
    print("open", flush=True)
    time.sleep(120)
    """
)


def test_a_file_held_open_for_writing_is_refused(workspace):
    path = workspace / "growing.csv"
    path.write_text("a,b\n1,2\n")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(DataError) as info:
            data.create("growing", path)
    finally:
        holder.kill()
        holder.wait()
    message = str(info.value)
    # rule: a file another process is writing is refused in one line naming that process
    assert f"process {holder.pid}" in message
    assert "\n" not in message
    # rule: once the writer is gone the version is made
    assert data.create("growing", path).version == 1


def test_mltable_subset_is_read_with_pyarrow(workspace):
    from sklearn.datasets import load_wine

    frame = load_wine(as_frame=True).frame
    folder = workspace / "table"
    (folder / "parts").mkdir(parents=True)
    frame.iloc[:100].to_csv(folder / "parts" / "a.csv", index=False)
    frame.iloc[100:].to_csv(folder / "parts" / "b.csv", index=False)
    (folder / "MLTable").write_text(
        "paths:\n  - pattern: ./parts/*.csv\n"
        "transformations:\n"
        "  - read_delimited:\n      delimiter: ','\n      header: all_files_same_headers\n"
        "  - drop_columns: [proline]\n  - keep_columns: [alcohol, target]\n  - take: 150\n"
    )
    asset = data.create("wine-table", folder)
    table = asset.to_pandas()
    # rule: a folder with an MLTable file is an mltable whose steps are applied in order
    assert asset.type == "mltable"
    assert list(table.columns) == ["alcohol", "target"]
    assert len(table) == 150
    (folder / "MLTable").write_text("paths:\n  - file: ./parts/a.csv\ntransformations:\n  - sql\n")
    with pytest.raises(DataError) as info:
        data.create("wine-table-2", folder)
    # rule: an unsupported transformation is refused, naming the supported ones
    assert "read_delimited" in str(info.value)
    assert "\n" not in str(info.value)


def test_datastores_never_store_credentials(workspace):
    with pytest.raises(DataError) as info:
        data.create_datastore("lake", "s3://bucket/x", {"secret_access_key": "abc"})
    # rule: an option that looks like a credential is refused and nothing is written
    assert "credentials are never stored" in str(info.value)
    assert not (workspace / ".nbstudio" / "datastores" / "lake.json").exists()
    shared = workspace / "shared"
    shared.mkdir()
    (shared / "x.csv").write_text("a\n1\n")
    data.create_datastore("shared_blob", str(shared))
    names = [s.name for s in data.list_datastores()]
    # rule: the two workspace stores always exist, beside the ones created
    assert names[:2] == ["workspaceblobstore", "workspacefilestore"]
    assert "shared_blob" in names
    asset = data.get("azureml://datastores/shared_blob/paths/x.csv")
    # rule: an azureml:// datastore path resolves through the datastore
    assert asset.to_pandas()["a"].tolist() == [1]


def test_datastore_option_names_where_the_path_is_or_where_to_copy(workspace):
    shared = workspace / "shared"
    shared.mkdir()
    (shared / "x.csv").write_text("a\n1\n")
    (workspace / "local.csv").write_text("a\n2\n")
    data.create_datastore("shared_blob", str(shared))
    inside = data.create("x", "x.csv", datastore="shared_blob")
    # rule: a relative --path with --datastore is a path inside that datastore
    assert inside.uri == "azureml://datastores/shared_blob/paths/x.csv"
    assert inside.record.datastore == "shared_blob"
    copied = data.create("local", "local.csv", datastore="shared_blob", copy=True)
    # rule: with --copy, --datastore is where the copy goes
    assert copied.record.datastore == "shared_blob"
    assert copied.uri.startswith("azureml://datastores/shared_blob/paths/data/local/")
    assert copied.to_pandas()["a"].tolist() == [2]
