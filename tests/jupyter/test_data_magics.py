"""``%data`` and ``%datastore`` in a real IPython shell: thin wrappers over nbstudio.data."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from IPython.core.error import UsageError


@pytest.fixture
def wine_file(workspace):
    from sklearn.datasets import load_wine

    load_wine(as_frame=True).frame.to_csv(workspace / "wine.csv", index=False)
    return workspace / "wine.csv"


def test_data_magics_create_list_show_archive(ip, wine_file):
    created = ip.run_line_magic("data", "create wine --path wine.csv -t team=red")
    # rule: %data create makes version 1 of the asset from a path relative to the notebook
    assert created.reference == "wine@1"
    listing = ip.run_line_magic("data", "list")
    assert listing["name"].tolist() == ["wine"]
    shown = ip.run_line_magic("data", "show wine@1")
    # rule: %data show prints the version's digest, tags and lineage
    assert "team=red" in repr(shown)
    assert "used by 0 run(s)" in repr(shown)
    ip.run_cell("%%mlrun reader -e magic-data\nimport nbstudio\nnbstudio.data.get('wine').path")
    shown = ip.run_line_magic("data", "show wine")
    # rule: a read inside %%mlrun shows up as a use of the version
    assert "used by 1 run(s)" in repr(shown)
    assert len(ip.run_line_magic("data", "runs wine@1")) == 1
    assert ip.run_line_magic("data", "versions wine")["version"].tolist() == [1]
    archived = ip.run_line_magic("data", "archive wine@1")
    assert archived.archived


def test_datastore_magics(ip, workspace):
    (workspace / "shared").mkdir()
    store = ip.run_line_magic("datastore", "create shared_files --url shared")
    # rule: %datastore create records a local folder as a file:// datastore
    assert store.url == (workspace / "shared").resolve().as_uri()
    names = ip.run_line_magic("datastore", "list")["name"].tolist()
    assert names == ["workspaceblobstore", "workspacefilestore", "shared_files"]
    ip.run_line_magic("datastore", "delete shared_files")
    with pytest.raises(UsageError, match="No datastore named"):
        ip.run_line_magic("datastore", "show shared_files")


@pytest.mark.parametrize(
    ("magic", "line", "message"),
    [
        ("data", "create wine", "--path"),
        ("data", "show", "needs a NAME"),
        ("data", "show nothing@1", "No data asset named"),
        ("data", "create wine --path missing.csv", "does not exist"),
        ("data", "create wine --path wine.csv --type uri_folder", "is a file"),
        ("data", "archive wine@latest", None),
        ("datastore", "create lake --url s3://b --option aws_secret_access_key=x", "credentials"),
        ("datastore", "create 9lake --url s3://b", "not a valid datastore name"),
    ],
)
def test_magic_errors_are_one_line(ip, wine_file, magic, line, message):
    if "archive" in line:
        ip.run_line_magic("data", "create wine --path wine.csv")
        message = "Say which version"
    with pytest.raises(UsageError) as info:
        ip.run_line_magic(magic, line)
    # rule: a user's mistake is one UsageError line saying what to do
    assert message in str(info.value)
    assert "\n" not in str(info.value).strip()


def _cli(*args: str, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    env.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.run(
        [sys.executable, "-m", "nbstudio.cli", "data", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_console_command(wine_file, workspace):
    created = _cli("create", "wine", "--path", "wine.csv", "-t", "team=red", cwd=workspace)
    # rule: `nbstudio data create` makes a version from a terminal, like %data create
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("wine@1: uri_file")
    listed = _cli("versions", "wine", "--json", cwd=workspace)
    assert json.loads(listed.stdout)["versions"][0]["tags"] == {"team": "red"}
    missing = _cli("show", "nothing@1", cwd=workspace)
    # rule: a user's mistake is one line on stderr and exit code 1
    assert missing.returncode == 1
    assert missing.stderr.strip().count("\n") == 0
    assert "No data asset named 'nothing'" in missing.stderr
