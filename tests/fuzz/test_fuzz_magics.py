"""Fuzz the magics with Hypothesis in a real IPython shell with nbstudio loaded.

Lines are built from the magics' own options with hostile values: literals, distribution
expressions with extreme numbers, names with quotes and unicode, seeds and limits out of range.
Properties: a magic either works or raises one line (`UsageError` or an `NbstudioError`, never
another exception type); no run is left RUNNING; reads (``%models``, ``%mlruns``, ``%compute
show``, ``%endpoint show`` ...) create no file or folder and leave the store's run count and
``PRAGMA integrity_check`` unchanged. ``FUZZ_EXAMPLES`` raises the number of examples.
"""

from __future__ import annotations

import builtins
import shlex

from hypothesis import given
from hypothesis import strategies as st
from IPython.core.error import UsageError

from helpers.fuzz import count, failure, files_under, fuzz_settings, store_state

NUMBERS = st.one_of(
    st.sampled_from(["0", "-1", "1", "1e-320", "1e308", "-1e308", "1e400", "nan", "inf", "-0.0"]),
    st.sampled_from(["9" * 25, "2**64", "1_000", "0x10", "True", "None", "'a'", "[]", "()"]),
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=False, width=64).map(repr),
)
DISTRIBUTIONS = st.sampled_from(
    [
        "choice",
        "randint",
        "uniform",
        "quniform",
        "loguniform",
        "qloguniform",
        "normal",
        "lognormal",
        "qnormal",
        "qlognormal",
        "Choice",
        "bogus",
        "__import__",
    ]
)
CALL_ARGS = st.one_of(
    NUMBERS,
    st.sampled_from(["range(1, 10, 0)", "range(10**3)", "range(10**12)", "range(3)", "[1, 2]"]),
    st.sampled_from(["min_value=0", "max_value=1", "natural_log=True", "q=0", "x=1", "*a"]),
)
EXPRESSIONS = st.builds(
    lambda name, args: f"{name}({', '.join(args)})",
    DISTRIBUTIONS,
    st.lists(CALL_ARGS, max_size=4),
)
LITERALS = st.one_of(
    NUMBERS,
    st.sampled_from(["{[]: 1}", "{{{{1}}}}", "-" * 3000 + "1", "[" * 300, "'x' * 10", "b'\\xff'"]),
    st.sampled_from(["{'a': [1, (2, 3)]}", "{1, 2}", "'rbf'", "rbf", "a b", "f(x)", "x.y"]),
    st.text(max_size=20),
    EXPRESSIONS,
)
NAMES = st.one_of(
    st.sampled_from(["x", "C", "print", "list", "_", "é", "2x", "a-b", "m'", 'm"', "a'b\"c"]),
    st.text(min_size=1, max_size=12),
)


def _quote(text: str) -> str:
    # Double braces: IPython expands {var} in magic lines before the magic sees them.
    return shlex.quote(text.replace("{", "{{").replace("}", "}}"))


PARAM = st.builds(lambda k, v: f"-p {_quote(f'{k}={v}')}", NAMES, LITERALS)
TAG = st.builds(lambda k, v: f"-t {_quote(f'{k}={v}')}", NAMES, st.text(max_size=10))
SWEEP_OPTION = st.one_of(
    st.sampled_from(["--sweep maximize:acc", "--sweep minimize:acc", "--sweep sideways:acc"]),
    st.sampled_from(["--sweep maximize:", "--sampling grid", "--sampling sobol", "--sampling x"]),
    st.sampled_from(["--max-trials 1", "--max-trials 0", "--max-trials -3", "--max-trials x"]),
    st.sampled_from(["--max-concurrent 0", "--policy none", "--policy 'bandit(slack_factor=-1)'"]),
    st.sampled_from(["--policy 'median_stopping('", "--timeout 0", "--timeout nan", "--out 1x"]),
    st.sampled_from(["--trial-timeout -1s", "--resume nope", "--compute nope", "--no-wait"]),
    NUMBERS.map(lambda n: f"--seed {_quote(n)}"),
    st.text(max_size=12).map(lambda t: f"-e {_quote(t)}"),
    st.sampled_from(["-e " + "x" * 600, "--nested", "--autolog", "--bogus", "'unclosed"]),
)
SWEEP_LINES = st.builds(
    lambda name, expr, extra: f"-p {_quote(f'{name}={expr}')} --sweep maximize:acc {extra}",
    st.sampled_from(["C", "x"]),
    EXPRESSIONS,
    st.one_of(st.just(""), SWEEP_OPTION),
)
MLRUN_LINES = st.one_of(
    PARAM,  # one option alone: nothing else masks the error it causes
    SWEEP_OPTION,
    SWEEP_LINES,
    st.lists(st.one_of(PARAM, PARAM, TAG, SWEEP_OPTION), min_size=2, max_size=5).map(" ".join),
)

READ_LINES = st.one_of(
    st.builds(lambda n: ("models", _quote(n)), NAMES),
    st.builds(lambda n: ("mlruns", f"-n {_quote(n)}"), NUMBERS),
    st.builds(lambda n: ("mlruns", f"-e {_quote(n)}"), NAMES),
    st.builds(lambda n: ("compute", f"show {_quote(n)}"), NAMES),
    st.just(("compute", "list")),
    st.builds(
        lambda verb, n: ("endpoint", f"{verb} {_quote(n)}"),
        st.sampled_from(["show", "key", "logs", "traffic", "bogus", ""]),
        NAMES,
    ),
    st.just(("endpoint", "list")),
)
# A quiet, fast cell: at most 2 trials are ever allowed to run (see _bounded).
CELL = "import mlflow\nmlflow.log_metric('acc', 0.5)\n"


def _bounded(line: str) -> str:
    """Keep valid sweeps short: at most 2 trials, 1 at a time, on the kernel."""
    if "--sweep" not in line or "--max-trials" in line:
        return line
    return line + " --max-trials 2 --max-concurrent 1"


def _one_line_error(exc: BaseException) -> None:
    from nbstudio.errors import NbstudioError

    # rule: a magic error is a UsageError or an NbstudioError, never another exception type
    assert isinstance(exc, UsageError | NbstudioError), f"{type(exc).__name__}: {exc}"


def _check_no_running(workspace) -> None:
    db = workspace / ".nbstudio" / "mlflow.db"
    if db.exists():
        # rule: no run is left RUNNING, whatever the line was
        assert store_state(db)[2] == 0


def test_fuzz_mlrun_lines(ip, workspace, capsys) -> None:
    @fuzz_settings(150, share=0.7)
    @given(line=MLRUN_LINES)
    def mlrun(line: str) -> None:
        line = _bounded(line)
        try:
            ip.run_cell_magic("mlrun", line + " --no-monitor", CELL)
            outcome = "ok"
        except BaseException as exc:
            try:
                _one_line_error(exc)
            except AssertionError:
                failure("magics")
                raise AssertionError(f"%%mlrun {line}: {type(exc).__name__}: {exc}") from exc
            outcome = "error"
        finally:
            for name in [k for k in ip.user_ns if k in vars(builtins)]:
                del ip.user_ns[name]  # -p print=1 must not break the next example
            capsys.readouterr()
        try:
            _check_no_running(workspace)
        except AssertionError:
            failure("magics")
            raise
        count("magics", outcome)

    mlrun()


def test_fuzz_reads_create_nothing(ip, workspace, capsys) -> None:
    ip.run_cell_magic("mlrun", "seed --no-monitor", CELL)  # a store with one run
    db = workspace / ".nbstudio" / "mlflow.db"
    before_files = files_under(workspace)
    before_store = store_state(db)

    @fuzz_settings(60, share=0.3)
    @given(read=READ_LINES)
    def read(read: tuple[str, str]) -> None:
        magic, line = read
        try:
            ip.run_line_magic(magic, line)
            outcome = "ok"
        except BaseException as exc:
            try:
                _one_line_error(exc)
            except AssertionError:
                failure("magics")
                raise AssertionError(f"%{magic} {line}: {type(exc).__name__}: {exc}") from exc
            outcome = "error"
        capsys.readouterr()
        try:
            # rule: a read creates no file or folder and leaves the store as it was
            assert files_under(workspace) == before_files, f"%{magic} {line}"
            assert store_state(db) == before_store, f"%{magic} {line}"
        except AssertionError:
            failure("magics")
            raise
        count("magics", outcome)

    read()


REFS = st.one_of(
    st.sampled_from(["m@champion", "m/1", "m/99", "m@gold", "m", "runs:/x/m", "models:/m/1", ""]),
    st.sampled_from(["few@1", "few@latest", "few@9", "few", "azureml://datastores/x/paths/y"]),
    NAMES,
)
BATCH_OPTION = st.one_of(
    st.builds(lambda r: f"--model {_quote(r)}", REFS),
    st.builds(lambda r: f"--input {_quote(r)}", REFS),
    st.builds(lambda n: f"--output {_quote(n)}", NAMES),
    st.builds(
        lambda o, n: f"{o} {_quote(n)}",
        st.sampled_from(
            ["--mini-batch-size", "--max-concurrency", "--error-threshold", "--retries"]
        ),
        NUMBERS,
    ),
    st.sampled_from(["--output-action append_row", "--output-action x", "--compute nope"]),
    st.sampled_from(["--compute local", "--bogus", "'unclosed", "-h"]),
)
BATCH_LINES = st.builds(
    lambda verb, name, options: f"{verb} {_quote(name)} {' '.join(options)}",
    st.sampled_from(["create", "invoke", "show", "jobs", "delete", "list", "bogus", ""]),
    st.one_of(st.just("ep"), NAMES),
    st.lists(BATCH_OPTION, max_size=4),
)
DRIFT_OPTION = st.one_of(
    st.builds(lambda r: f"--current {_quote(r)}", REFS),
    st.builds(lambda r: f"--reference {_quote(r)}", REFS),
    # the other sources: an endpoint's collected inputs (with --since) and a batch job's input
    st.builds(lambda r: f"--current {_quote('endpoint:' + r)}", REFS),
    st.builds(lambda r: f"--current {_quote('batch:' + r)}", REFS),
    st.builds(lambda t: f"--since {_quote(t)}", st.text(max_size=12)),
    st.sampled_from(["--bogus", "'unclosed", "-h", "--current", "--reference", "--since"]),
)
DRIFT_LINES = st.builds(
    lambda model, options: f"{_quote(model)} {' '.join(options)}",
    REFS,
    st.lists(DRIFT_OPTION, max_size=3),
)


def test_fuzz_batch_and_drift_lines(ip, workspace, capsys) -> None:
    import mlflow
    import pandas as pd
    from sklearn.linear_model import LinearRegression

    import nbstudio
    import nbstudio.data as data

    nbstudio.get_session().workspace  # noqa: B018
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0]})
    (workspace / "few.csv").write_text(frame.to_csv(index=False))
    data.create("few", workspace / "few.csv")
    with mlflow.start_run():
        nbstudio.register_model(
            LinearRegression().fit(frame, [1, 2, 3, 4]), name="m", aliases=["champion"]
        )
    ip.run_line_magic("batch", "create ep --model m@champion")

    @fuzz_settings(80, share=0.3)
    @given(
        line=st.one_of(
            BATCH_LINES.map(lambda x: ("batch", x)), DRIFT_LINES.map(lambda x: ("drift", x))
        )
    )
    def magic(line: tuple[str, str]) -> None:
        name, text = line
        try:
            ip.run_line_magic(name, text)
            outcome = "ok"
        except BaseException as exc:
            try:
                _one_line_error(exc)
            except AssertionError:
                failure("magics")
                raise AssertionError(f"%{name} {text}: {type(exc).__name__}: {exc}") from exc
            outcome = "error"
        capsys.readouterr()
        try:
            _check_no_running(workspace)
        except AssertionError:
            failure("magics")
            raise
        count("magics", outcome)

    magic()
