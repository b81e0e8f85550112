"""How data references are read: names, versions, the azureml: forms, datastore paths, URLs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nbstudio.data.errors import DataError
from nbstudio.data.uris import AssetRef, DatastorePath, Location, parse

TABLE = [
    ("wine", AssetRef("wine", "latest")),
    ("wine@latest", AssetRef("wine", "latest")),
    ("wine@3", AssetRef("wine", "3")),
    ("wine:3", AssetRef("wine", "3")),
    ("azureml:wine:3", AssetRef("wine", "3")),
    ("azureml:wine@latest", AssetRef("wine", "latest")),
    ("azureml:wine", AssetRef("wine", "latest")),
    ("wine-quality.v2@12", AssetRef("wine-quality.v2", "12")),
    (
        "azureml://datastores/workspaceblobstore/paths/wine/red.csv",
        DatastorePath("workspaceblobstore", "wine/red.csv"),
    ),
    ("azureml://datastores/blob/paths/", DatastorePath("blob", "")),
    (
        "azureml://subscriptions/s/resourcegroups/g/workspaces/w/datastores/blob/paths/a/b.parquet",
        DatastorePath("blob", "a/b.parquet"),
    ),
    (
        "azureml://locations/westeurope/workspaces/w/data/wine/versions/4",
        AssetRef("wine", "4"),
    ),
    ("s3://bucket/prefix/x.csv", Location("s3://bucket/prefix/x.csv")),
    ("file:///data/x.csv", Location("file:///data/x.csv")),
    ("/abs/x.csv", Location("/abs/x.csv")),
    ("./rel/x.csv", Location("./rel/x.csv")),
]


@pytest.mark.parametrize(("text", "expected"), TABLE)
def test_reference_forms(text, expected):
    # rule: every Azure ML reference form names the same thing nbstudio resolves
    assert parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "wine@0",
        "wine@-1",
        "wine@v2",
        "azureml:wine:two",
        "azureml://nothing/here",
        "-wine",
        "wi ne",
        "wine@",
        "azureml:",
    ],
)
def test_bad_references_are_one_line_errors(text):
    with pytest.raises(DataError) as info:
        parse(text)
    # rule: a bad reference is a one-line DataError that says how to write it
    assert "\n" not in str(info.value)
    assert str(info.value)


@given(st.text(max_size=80))
def test_any_text_parses_or_fails_cleanly(text):
    outcome: object
    try:
        outcome = parse(text)
    except DataError as exc:
        outcome = exc
    if isinstance(outcome, DataError):
        # rule: hostile text never escapes as anything but a one-line DataError
        assert "\n" not in str(outcome)
    else:
        # rule: what parses is one of the three kinds of reference
        assert isinstance(outcome, AssetRef | DatastorePath | Location)
