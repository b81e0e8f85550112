"""Regression tests of issue 12: each magic input below once printed a traceback (or silently did
the wrong thing); now it is one line, and a read leaves no state behind."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from IPython.core.error import UsageError

CELL = "import mlflow\nmlflow.log_metric('acc', 0.5)\n"


def _runs(root: Path) -> int:
    from nbstudio.session import get_session

    client = get_session().client()
    experiments = client.search_experiments()
    return len(client.search_runs([e.experiment_id for e in experiments]))


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("-p 'x={[]: 1}'", "not a Python literal"),
        # IPython expands {var} in magic lines ({{ is a brace): the magic receives x={{1}}
        ("-p 'x={{{{1}}}}'", "not a Python literal"),
        ("-p 'x=" + "-" * 3000 + "1'", "not a Python literal"),
        ("-p 'C=qnormal(0, 1, 1e-320)' --sweep maximize:acc", "too small"),
        ("-p 'C=choice(range(1, 10, 0))' --sweep maximize:acc", "must not be zero"),
        ("-p 'C=choice(range(10**3))' --sweep maximize:acc", "not a literal"),
        ("-p 'C=choice(range(1000000000000))' --sweep maximize:acc", "more than"),
        ("-p 'C=uniform(0, 1)' --sweep maximize:acc --seed 99999999999999999999999", "seed"),
        ("-p 'C=uniform(-1e308, 1e308)' --sweep maximize:acc", "wider than a float"),
        ("-p 'C=lognormal(1000, 1)' --sweep maximize:acc", "beyond what a float holds"),
        ("-e " + "x" * 600, "at most 500"),
    ],
)
def test_magic_input_is_one_line(ip, workspace: Path, line: str, words: str) -> None:
    before = _runs(workspace)
    with pytest.raises(UsageError) as caught:
        ip.run_cell_magic("mlrun", line, CELL)
    message = str(caught.value)
    # rule: a bad magic input is one UsageError line that says what is wrong
    assert words in message
    assert "\n" not in message
    assert "Traceback" not in message
    # rule: nothing was recorded for a refused cell
    assert _runs(workspace) == before


@pytest.mark.parametrize("option", ["--max-trials 3", "--sampling grid", "--seed 1", "--out r"])
def test_sweep_options_without_a_sweep_are_refused(ip, option: str) -> None:
    with pytest.raises(UsageError) as caught:
        ip.run_cell_magic("mlrun", f"-p C=1 {option}", CELL)
    # rule: a sweep option on a plain run says what it needs instead of being ignored
    assert "only apply to a sweep" in str(caught.value)


def test_param_shadowing_a_builtin_warns(ip, capsys) -> None:
    ip.run_cell_magic("mlrun", "-p print=1 --no-monitor", "x = 1\n")
    err = capsys.readouterr().err
    # rule: -p print=1 works but says it hides the builtin
    assert "hides Python's builtin 'print'" in err
    del ip.user_ns["print"]


def test_idle_seconds_nan_is_refused_before_any_record(ip, workspace: Path) -> None:
    with pytest.raises(UsageError) as caught:
        ip.run_line_magic("compute", "create c1 --max-nodes 1 --idle-seconds nan")
    # rule: nan is not a number of seconds; no cluster record is left
    assert "--idle-seconds" in str(caught.value)
    assert not (workspace / ".nbstudio" / "compute" / "c1").exists()


def test_max_nodes_beyond_the_machine_is_refused(ip, workspace: Path) -> None:
    try:
        with pytest.raises(UsageError) as caught:
            ip.run_line_magic("compute", "create c2 --max-nodes 100000")
    finally:  # had it been accepted, its cluster process must not outlive the test
        if (workspace / ".nbstudio" / "compute" / "c2").exists():
            ip.run_line_magic("compute", "delete c2")
    # rule: refuse what the machine cannot run
    assert "more worker processes than this machine" in str(caught.value)


@pytest.mark.parametrize("verb", ["show", "key", "logs", "stop", "start", "delete", "traffic"])
def test_endpoint_read_of_unknown_name_creates_nothing(ip, workspace: Path, verb: str) -> None:
    with pytest.raises(UsageError) as caught:
        ip.run_line_magic("endpoint", f"{verb} nope")
    # rule: an unknown endpoint is one line, and asking about it creates no folder
    assert "nope" in str(caught.value)
    assert not (workspace / ".nbstudio" / "endpoints" / "nope").exists()


def test_model_name_with_a_quote_is_listed(ip) -> None:
    from sklearn.dummy import DummyClassifier

    ip.user_ns["clf"] = DummyClassifier().fit([[0], [1]], [0, 1])
    ip.run_line_magic("register_model", """clf --name "m'" """)
    table = ip.run_line_magic("models", """ "m'" """)
    # rule: names are quoted properly in every filter string nbstudio builds
    assert list(table["name"]) == ["m'"]
    with pytest.raises(UsageError) as caught:
        ip.run_line_magic("register_model", """clf --name 'a'"'"'b"c'""")
    # rule: a name MLflow could never search for is refused up front
    assert "both" in str(caught.value)


def test_space_checks_are_finite() -> None:
    from nbstudio.sweep.errors import SpaceError
    from nbstudio.sweep.space import parse_distribution

    for text in ("quniform(0, 1e300, 1e-300)", "normal(1e308, 1e308)", "qnormal(0, 1, 1e-320)"):
        with pytest.raises(SpaceError):
            parse_distribution(text)
    # rule: reasonable spaces still parse and sample finite values
    assert math.isfinite(parse_distribution("qlognormal(0, 1, 0.5)").value(0.9))
