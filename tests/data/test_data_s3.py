"""Data on S3: s3fs against moto's S3 server on 127.0.0.1, started by the test module.

A datastore records the bucket URL and the endpoint, never the keys (they come from the
environment); versions are hashed by the store's VersionId/ETag, or by content with --hash full.
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
from collections.abc import Iterator

import pandas as pd
import pytest

import nbstudio.data as data
from nbstudio.data.errors import DataError, DataNotFoundError


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, workspace):
    """A fresh bucket ``lake`` (plain) and ``vault`` (versioned), keys in the environment only."""
    import boto3
    import fsspec

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    for bucket in ("lake", "vault"):
        with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
            client.create_bucket(Bucket=bucket)
    client.put_bucket_versioning(Bucket="vault", VersioningConfiguration={"Status": "Enabled"})
    fsspec.filesystem("s3", endpoint_url=s3_endpoint).invalidate_cache()
    return client


def _put_frame(client, bucket: str, key: str, frame: pd.DataFrame) -> None:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    client.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())


def test_s3_folder_versions_by_etag_and_by_content(s3, s3_endpoint, workspace):
    from sklearn.datasets import load_wine

    frame = load_wine(as_frame=True).frame
    for i in range(3):
        _put_frame(s3, "lake", f"wine/part-{i}.parquet", frame.iloc[i * 60 : (i + 1) * 60])
    store = data.create_datastore("lake", "s3://lake", {"endpoint_url": s3_endpoint})
    record = (workspace / ".nbstudio" / "datastores" / "lake.json").read_text()
    # rule: the datastore record holds the URL and endpoint, never the keys
    assert "testing" not in record
    assert json.loads(record)["options"] == {"endpoint_url": s3_endpoint}
    assert store.url == "s3://lake"

    first = data.create("wine-s3", "azureml://datastores/lake/paths/wine")
    # rule: a remote folder is versioned through the store's ETags, without reading the bytes
    assert first.record.hash_mode == "store"
    assert first.record.files == 3
    assert first.type == "uri_folder"
    # rule: it reads back as one table through s3fs
    assert first.to_pandas().shape == (178, 14)
    assert first.path == "s3://lake/wine"

    same = data.create("wine-s3", "azureml://datastores/lake/paths/wine")
    assert same.version == 1
    full = data.create("wine-s3-full", "azureml://datastores/lake/paths/wine", hash="full")
    # rule: --hash full hashes the content
    assert full.record.hash_mode == "content"

    changed = frame.iloc[120:].copy()
    changed.iloc[-1, 0] = 99.0
    _put_frame(s3, "lake", "wine/part-2.parquet", changed)
    with pytest.raises(DataError) as info:
        data.get("wine-s3@1").to_pandas()
    # rule: an S3 object rewritten after the version was made is caught by its ETag
    assert "changed since it was registered" in str(info.value)
    second = data.create("wine-s3", "azureml://datastores/lake/paths/wine")
    assert second.version == 2
    assert second.digest != first.digest


def test_versioned_bucket_uses_version_ids_and_copy_keeps_a_snapshot(s3, s3_endpoint, workspace):
    data.create_datastore("vault", "s3://vault", {"endpoint_url": s3_endpoint})
    s3.put_object(Bucket="vault", Key="scores.csv", Body=b"id,score\n1,0.5\n")
    asset = data.create("scores", "azureml://datastores/vault/paths/scores.csv", copy=True)
    # rule: --copy of an S3 file lands in the workspace blob store as immutable local bytes
    assert asset.record.datastore == "workspaceblobstore"
    assert asset.to_pandas()["score"].tolist() == [0.5]
    in_place = data.create("scores-live", "azureml://datastores/vault/paths/scores.csv")
    # rule: a versioned bucket's VersionId stands for the content
    assert in_place.record.hash_mode == "store"
    s3.put_object(Bucket="vault", Key="scores.csv", Body=b"id,score\n1,0.9\n")
    # rule: the copy is unaffected by the later upload; the in-place version detects it
    assert data.get("scores@1").to_pandas()["score"].tolist() == [0.5]
    with pytest.raises(DataError):
        data.get("scores-live@1").open().read()


def test_missing_s3_path_is_one_line(s3, s3_endpoint, workspace):
    data.create_datastore("lake", "s3://lake", {"endpoint_url": s3_endpoint})
    with pytest.raises(DataNotFoundError) as info:
        data.create("nothing", "azureml://datastores/lake/paths/no/such/key.csv")
    # rule: a path missing on S3 is a one-line error, not an s3fs traceback
    assert "does not exist" in str(info.value)
    assert "\n" not in str(info.value)
