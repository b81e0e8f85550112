"""Cache keys of pipeline steps: what changes a key, what does not, for notebook-defined code.

Components are defined in cells of a real IPython shell (as in a notebook: their module is
``__main__``), edited by running a changed cell, and their keys compared step by step.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from nbstudio.pipelines.keys import graph_keys

CELL = """
import pandas as pd
import nbstudio
from nbstudio.pipelines import Outputs

SCALE = 2  # a constant global the helper reads

def helper(x):
    return x * SCALE

@nbstudio.component
def load(path):
    return pd.read_csv(path)

@nbstudio.component
def split(df) -> Outputs["train", "test"]:
    return df.iloc[:2], df.iloc[2:]

@nbstudio.component
def fit(train, C=1.0):
    # a comment
    return {"w": helper(float(train["a"].sum())) * C}

@nbstudio.component
def other(train):
    return len(train)

@nbstudio.component
def score(model, test):
    return model["w"] + len(test)

@nbstudio.pipeline
def demo(path="data.csv", C=1.0):
    train, test = split(load(path))
    return {"fit": score(fit(train, C=C), test), "other": other(train)}
"""


def _keys(ip, **params) -> dict[str, str | None]:
    demo = ip.user_ns["demo"]
    return {name: k.key for name, k in graph_keys(demo.build(**params), Path.cwd()).items()}


def _changed(before: dict, after: dict) -> set[str]:
    return {name for name in before if before[name] != after[name]}


@pytest.fixture
def shell(ip, workspace: Path):
    pd.DataFrame({"a": [1, 2, 3, 4], "b": [5, 6, 7, 8]}).to_csv("data.csv", index=False)
    result = ip.run_cell(CELL)
    assert result.error_in_exec is None, result.error_in_exec
    return ip


def _redefine(ip, old: str, new: str) -> None:
    assert old in CELL
    result = ip.run_cell(CELL.replace(old, new))
    assert result.error_in_exec is None, result.error_in_exec


def test_every_step_has_a_key_and_keys_are_stable(shell):
    first = _keys(shell)
    assert all(first.values())
    assert len(set(first.values())) == len(first)
    assert _keys(shell) == first


def test_comment_and_formatting_edit_keeps_every_key(shell):
    before = _keys(shell)
    _redefine(
        shell, "    # a comment\n    return {", "    # another comment entirely\n\n    return  {"
    )
    assert _keys(shell) == before


def test_body_edit_changes_the_step_and_its_downstream_only(shell):
    before = _keys(shell)
    _redefine(shell, "return len(train)", "return len(train) + 1")
    assert _changed(before, _keys(shell)) == {"other"}
    _redefine(shell, "* C}", "* C * 1.5}")
    assert _changed(before, _keys(shell)) == {"fit", "score"}


def test_helper_edit_changes_the_steps_calling_it(shell):
    before = _keys(shell)
    _redefine(shell, "return x * SCALE", "return x * SCALE + 1")
    assert _changed(before, _keys(shell)) == {"fit", "score"}


def test_constant_edit_changes_the_steps_reading_it(shell):
    before = _keys(shell)
    _redefine(shell, "SCALE = 2", "SCALE = 3")
    assert _changed(before, _keys(shell)) == {"fit", "score"}


def test_param_edit_changes_the_steps_using_it(shell):
    before = _keys(shell)
    assert _changed(before, _keys(shell, C=0.5)) == {"fit", "score"}


def test_file_content_edit_changes_the_reader_and_everything_after_it(shell):
    before = _keys(shell)
    pd.DataFrame({"a": [1, 2, 3, 5], "b": [5, 6, 7, 8]}).to_csv("data.csv", index=False)
    assert _changed(before, _keys(shell)) == set(before)


def test_one_dataframe_cell_changes_the_key(shell):
    shell.run_cell(
        "@nbstudio.component\n"
        "def total(df):\n    return df.sum()\n\n"
        "@nbstudio.pipeline\n"
        "def frames(df):\n    return total(df)\n"
    )
    frames = shell.user_ns["frames"]
    df = pd.DataFrame({"a": range(1000), "b": [0.5] * 1000})
    before = graph_keys(frames.build(df=df), None)["total"].key
    assert graph_keys(frames.build(df=df.copy()), None)["total"].key == before
    edited = df.copy()
    edited.loc[517, "b"] = 0.25
    assert graph_keys(frames.build(df=edited), None)["total"].key != before


def test_two_components_with_the_same_body_have_different_keys(shell):
    shell.run_cell(
        "@nbstudio.component\ndef one(x):\n    return x + 1\n\n"
        "@nbstudio.component\ndef two(x):\n    return x + 1\n\n"
        "@nbstudio.pipeline\ndef both(x=1):\n    return one(x), two(x)\n"
    )
    found = graph_keys(shell.user_ns["both"].build(), None)
    assert found["one"].key != found["two"].key


def test_an_unfingerprintable_input_makes_the_step_uncached_not_constant(shell):
    shell.run_cell(
        "@nbstudio.component\ndef use(thing):\n    return 1\n\n"
        "@nbstudio.pipeline\ndef p(thing=None):\n    return use(thing)\n"
    )
    built = shell.user_ns["p"].build(thing=object())
    found = graph_keys(built, None)["use"]
    assert found.key is None
    assert "object values cannot be fingerprinted" in found.reason


SCRIPT = textwrap.dedent(
    """
    import json
    import nbstudio
    from nbstudio.pipelines.keys import graph_keys

    LABELS = {"red", "white", "rosé", "sparkling", "dessert"}
    WEIGHTS = {"a": 1.0, "b": frozenset({"x", "y", "z"})}

    @nbstudio.component
    def classify(kinds, opts):
        return sorted(LABELS & set(kinds)), WEIGHTS

    @nbstudio.pipeline
    def p(kinds=("red", "white"), opts=None):
        return classify(kinds, opts or {"u", "v", "w", "q"})

    print(json.dumps({k: v.key for k, v in graph_keys(p.build(), None).items()}))
    """
)


def test_keys_are_equal_across_processes_with_different_hash_seeds(tmp_path: Path):
    script = tmp_path / "keys_script.py"
    script.write_text(SCRIPT)
    found = []
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, str(script)], env=env, capture_output=True, text=True, check=True
        )
        found.append(json.loads(out.stdout.strip().splitlines()[-1]))
    assert found[0]["classify"]
    assert found[0] == found[1] == found[2]


def test_a_data_asset_input_counts_by_its_version_digest(shell, workspace: Path):
    import nbstudio.data as data

    frame = pd.DataFrame({"a": [1, 2, 3]})
    frame.to_csv("asset.csv", index=False)
    data.create("grapes", "asset.csv", copy=True)
    shell.run_cell(
        "@nbstudio.component\ndef read(ref):\n    return ref\n\n"
        "@nbstudio.pipeline\ndef assets(ref='grapes@latest'):\n    return read(ref)\n"
    )
    pipeline = shell.user_ns["assets"]

    def key(ref: str) -> str | None:
        return graph_keys(pipeline.build(ref=ref), None)["read"].key

    first, latest = key("grapes@1"), key("grapes@latest")
    assert (
        graph_keys(pipeline.build(ref="grapes@1"), None)["read"].recipe["inputs"]["ref"]["kind"]
        == "data-asset"
    )
    frame.assign(a=[1, 2, 4]).to_csv("asset.csv", index=False)
    data.create("grapes", "asset.csv", copy=True)
    # rule: a new version changes what @latest means, not what @1 means
    assert key("grapes@1") == first
    assert key("grapes@latest") != latest


def test_an_empty_folder_input_runs_uncached_with_the_reason(shell, workspace: Path):
    (workspace / "empty").mkdir()
    shell.run_cell(
        "@nbstudio.component\ndef scan(folder):\n    return folder\n\n"
        "@nbstudio.pipeline\ndef folders(folder='empty'):\n    return scan(folder)\n"
    )
    found = graph_keys(shell.user_ns["folders"].build(), None)["scan"]
    assert found.key is None
    assert "is empty" in found.reason
