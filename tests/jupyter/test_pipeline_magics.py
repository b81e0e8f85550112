"""``%pipeline`` in a real IPython shell: show, run, runs, why, -h, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import nbstudio
from helpers.fuzz import count, failure, fuzz_settings
from nbstudio.pipelines.display import GraphView

CELL = """
import nbstudio
from nbstudio.pipelines import Outputs

RATE = 2

def helper(x):
    return x * RATE

@nbstudio.component
def make(n):
    return list(range(n))

@nbstudio.component
def halves(values) -> Outputs["low", "high"]:
    return values[: len(values) // 2], values[len(values) // 2 :]

@nbstudio.component
def total(values, C=1.0):
    return helper(sum(values)) * C

@nbstudio.component
def count(values):
    return len(values)

@nbstudio.pipeline
def demo(n=6, C=1.0):
    low, high = halves(make(n))
    return {"total": total(low, C=C), "count": count(high)}
"""


@pytest.fixture
def shell(ip, workspace: Path):
    result = ip.run_cell(CELL)
    assert result.error_in_exec is None, result.error_in_exec
    return ip


def _line(shell, line: str):
    result = shell.run_cell(line)
    return result


def _no_run_left_running() -> None:
    client = nbstudio.get_session().client()
    exps = [e.experiment_id for e in client.search_experiments()]
    running = client.search_runs(exps, "attributes.status = 'RUNNING'") if exps else []
    assert list(running) == []


def test_show_draws_the_graph_before_running(shell):
    result = _line(shell, "%pipeline show demo -p n=8")
    assert result.error_in_exec is None
    view = result.result
    assert isinstance(view, GraphView)
    svg = view._repr_svg_()
    assert svg.startswith("<svg")
    for step in ("make", "halves", "total", "count"):
        assert f'data-step="{step}"' in svg
    assert nbstudio.get_session().client().search_experiments()[0].name  # nothing ran yet
    _no_run_left_running()


def test_run_then_why_names_the_changed_helper_and_param(shell, capsys):
    first = _line(shell, "%pipeline run demo --max-concurrent 2")
    assert first.error_in_exec is None, first.error_in_exec
    assert first.result.status == "FINISHED"
    assert first.result.outputs == {"total": 6, "count": 3}
    same = _line(shell, "%pipeline run demo").result
    assert {s.state for s in same.steps.values()} == {"reused"}

    shell.run_cell(CELL.replace("return x * RATE", "return x * RATE + 1"))
    edited = _line(shell, "%pipeline run demo -p C=0.5").result
    assert edited.steps["count"].state == "reused"
    capsys.readouterr()
    _line(shell, f"%pipeline why {first.result.run_id} {edited.run_id}")
    out = capsys.readouterr().out
    lines = {line.split(":", 1)[0]: line for line in out.strip().splitlines()}
    assert "reused" in lines["count"]
    assert "reused" in lines["make"]
    assert "helper __main__.helper changed" in lines["total"]
    assert "param C: 1.0 -> 0.5" in lines["total"]

    table = _line(shell, "%pipeline runs demo").result
    assert list(table["run_id"])[:1] == [edited.run_id]
    assert set(table["status"]) == {"FINISHED"}
    assert list(table["steps_total"]) == [4, 4, 4]
    _no_run_left_running()


def test_a_failed_pipeline_is_one_line_and_leaves_nothing_running(shell, capsys):
    shell.run_cell(
        "@nbstudio.component\ndef broken(values):\n    raise ValueError('bad values')\n\n"
        "@nbstudio.pipeline\ndef fails(n=3):\n    return broken(make(n))\n"
    )
    result = _line(shell, "%pipeline run fails")
    assert result.error_in_exec is not None
    message = str(result.error_in_exec)
    assert "\n" not in message
    assert "step 'broken' failed" in message
    assert "ValueError: bad values" in message
    _no_run_left_running()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("%pipeline run nothing_here", "'nothing_here' is not defined"),
        ("%pipeline run RATE", "'RATE' is a int"),
        ("%pipeline why onlyone", "%pipeline why RUN_A RUN_B"),
        ("%pipeline run demo --rerun nope", "no step 'nope'"),
        ("%pipeline run demo -p nope=1", "unexpected keyword argument 'nope'"),
        ("%pipeline why 0123 4567", "no run '0123'"),
        ("%pipeline run demo --max-concurrent 0", "max_concurrent must be >= 1"),
    ],
)
def test_bad_input_is_one_line(shell, line, expected):
    result = _line(shell, line)
    assert result.error_in_exec is not None
    assert expected in str(result.error_in_exec)
    assert "\n" not in str(result.error_in_exec)
    _no_run_left_running()


def test_help(shell, capsys):
    result = _line(shell, "%pipeline -h")
    assert result.error_in_exec is None
    out = capsys.readouterr().out
    assert "%pipeline why RUN_A RUN_B" in out


HOSTILE = st.one_of(
    st.sampled_from(["0", "-1", "1e308", "nan", "'a'", "[]", "{1, 2}", "[" * 50, "None"]),
    st.sampled_from(["demo", "RATE", "helper", "make", "nbstudio", "__import__", "x.y", "a b"]),
    st.text(max_size=15),
)
OPTIONS = st.lists(
    st.one_of(
        st.builds(lambda k, v: f"-p {k}={v}", st.sampled_from(["n", "C", "nope", "1x"]), HOSTILE),
        st.builds(lambda v: f"--max-concurrent {v}", HOSTILE),
        st.builds(lambda v: f"--rerun {v}", HOSTILE),
        st.builds(lambda v: f"--resume {v}", HOSTILE),
        st.builds(lambda v: f"--compute {v}", HOSTILE),
        st.sampled_from(["--no-cache", "--continue-on-failure", "--no-monitor", "-p", "--"]),
    ),
    max_size=3,
)
LINES = st.builds(
    lambda action, names, options: " ".join([action, *names, *options]),
    st.sampled_from(["run", "show", "runs", "why", "bogus", ""]),
    st.lists(st.one_of(st.sampled_from(["demo", "RATE", "missing"]), HOSTILE), max_size=2),
    OPTIONS,
)


def test_fuzz_pipeline_lines(shell, workspace: Path, capsys) -> None:
    from IPython.core.error import UsageError

    from nbstudio.errors import NbstudioError

    @fuzz_settings(40, share=0.2)
    @given(line=LINES)
    def pipeline(line: str) -> None:
        try:
            shell.run_line_magic("pipeline", line)
            outcome = "ok"
        except BaseException as exc:
            # rule: a bad line is one line (UsageError or NbstudioError), never another error
            if not isinstance(exc, UsageError | NbstudioError) or "\n" in str(exc):
                failure("magics")
                raise AssertionError(f"%pipeline {line}: {type(exc).__name__}: {exc}") from exc
            outcome = "error"
        finally:
            capsys.readouterr()
        _no_run_left_running()
        count("magics", outcome)

    pipeline()
