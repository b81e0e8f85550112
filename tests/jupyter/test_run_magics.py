"""%%mlrun, %mlworkspace and %mlruns through a real IPython shell and the real store."""

from __future__ import annotations

import time

import mlflow
import pytest
from IPython.core.error import UsageError

from nbstudio.session import get_session


def _last_run(experiment: str = "notebook"):
    runs = mlflow.search_runs(experiment_names=[experiment], order_by=["start_time DESC"])
    return get_session().client().get_run(runs.run_id.iloc[0])


def test_mlrun_records_the_cell(ip, capsys) -> None:
    result = ip.run_cell(
        "%%mlrun train -p alpha=0.5 -p kernel='rbf' -p layers='[64, 32]' -t team=nlp\n"
        "import mlflow\n"
        "print('training', alpha, kernel, layers)\n"
        "for i in range(3):\n"
        "    mlflow.log_metric('loss', 1 / (i + 1), step=i)\n"
    )
    # rule: the cell runs normally and its params arrive as variables
    assert result.success
    assert ip.user_ns["alpha"] == 0.5
    assert ip.user_ns["layers"] == [64, 32]
    run = _last_run()
    # rule: the run is named, FINISHED, with params, tags and every metric point
    assert run.info.run_name == "train"
    assert run.info.status == "FINISHED"
    assert run.data.params == {"alpha": "0.5", "kernel": "rbf", "layers": "[64, 32]"}
    assert run.data.tags["team"] == "nlp"
    history = get_session().client().get_metric_history(run.info.run_id, "loss")
    assert [p.step for p in history] == [0, 1, 2]
    source = mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/cell.py")
    assert "mlflow.log_metric('loss'" in source
    # rule: a compact summary follows the cell's own output
    out = capsys.readouterr().out
    assert out.index("training 0.5 rbf") < out.index("Run train")
    assert "FINISHED" in out


def test_failing_cell_fails_the_run_and_the_cell(ip, capsys) -> None:
    result = ip.run_cell("%%mlrun broken\nx = 1\nraise ValueError('no data')\n")
    # rule: the exception reaches the user as it would without the magic
    assert isinstance(result.error_in_exec, ValueError)
    run = _last_run()
    assert run.info.status == "FAILED"
    error = mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/error.txt")
    # rule: error.txt holds the cell's traceback, not nbstudio's or IPython's frames
    assert "ValueError: no data" in error
    assert "nbstudio" not in error
    out = capsys.readouterr().out
    # rule: the traceback is shown once, followed only by the run's summary (no extra line)
    assert out.count("ValueError: no data") == 2  # traceback's last line + summary's error line
    assert "see above" not in out


def test_a_failing_cell_shows_the_traceback_it_shows_without_the_magic(ip, capsys) -> None:
    number = ip.execution_count
    ip.run_cell("%%mlrun boom\nx = 1\n1 / 0\n", store_history=True)
    tracked = capsys.readouterr().out
    ip.run_cell("x = 1\n1 / 0\n", store_history=True)
    plain = capsys.readouterr().out
    # rule: the traceback names the cell by its own number, as the same cell without the magic
    assert f"Cell In[{number}], line 2" in tracked
    assert f"Cell In[{number + 1}], line 2" in plain
    last_line = "ZeroDivisionError: division by zero\n"
    trace = tracked[: tracked.index(last_line) + len(last_line)]
    assert trace.replace(f"In[{number}]", "In[N]") == plain.replace(f"In[{number + 1}]", "In[N]")


def test_refused_data_fails_the_cell_in_one_line_with_a_summary(ip, capsys) -> None:
    cell = (
        "%%mlrun conflict -p alpha=0.5\nmlflow.log_metric('m', 1)\nmlflow.log_param('alpha', 9)\n"
    )
    ip.run_cell("import mlflow")
    result = ip.run_cell(cell)
    # rule: data the store refused fails the cell with nbstudio's one-line error, not FINISHED
    assert "Changing param values is not allowed" in str(result.error_in_exec)
    assert _last_run().info.status == "FAILED"
    out = capsys.readouterr().out
    # rule: the run's summary still follows, saying how it ended
    assert "Run conflict" in out
    assert "FAILED" in out


def test_interrupted_cell_is_killed(ip) -> None:
    result = ip.run_cell("%%mlrun\nraise KeyboardInterrupt\n")
    # rule: a kernel interrupt ends the run KILLED
    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    assert _last_run().info.status == "KILLED"


def test_last_expression_is_displayed_but_not_async_handles(ip, capsys) -> None:
    ip.run_cell("%%mlrun\nimport mlflow\n6 * 7\n")
    assert "42" in capsys.readouterr().out
    ip.run_cell("%%mlrun\nimport mlflow\nmlflow.log_metric('m', 1.0)\n")
    # rule: mlflow.log_metric as last line shows nothing, as without the magic
    assert "RunOperations" not in capsys.readouterr().out


def test_nested_run_under_the_previous_one(ip) -> None:
    ip.run_cell("%%mlrun parent\npass\n")
    parent = _last_run()
    ip.run_cell("%%mlrun child --nested\npass\n")
    child = _last_run()
    # rule: --nested without an active run nests under this kernel's last run
    assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id


def test_children_started_in_a_cell_join_the_cells_experiment(ip) -> None:
    ip.run_cell(
        "%%mlrun learning-rates -e lessons\n"
        "import mlflow\n"
        "for lr in (0.1, 0.01):\n"
        "    with mlflow.start_run(run_name=f'lr={lr}', nested=True):\n"
        "        mlflow.log_metric('loss', lr)\n"
    )
    (parent_id,) = mlflow.search_runs(
        experiment_names=["lessons"], filter_string="attributes.run_name = 'learning-rates'"
    ).run_id
    parent = get_session().client().get_run(parent_id)
    children = mlflow.search_runs(
        search_all_experiments=True,
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
    )
    # rule: nested runs opened inside a %%mlrun cell live in the parent's experiment, not Default
    assert len(children) == 2
    assert set(children.experiment_id) == {parent.info.experiment_id}


def test_autolog_records_sklearn_fit(ip) -> None:
    ip.run_cell(
        "from sklearn.datasets import load_iris\n"
        "from sklearn.tree import DecisionTreeClassifier\n"
        "X, y = load_iris(return_X_y=True)\n"
    )
    result = ip.run_cell("%%mlrun --autolog\nDecisionTreeClassifier(max_depth=2).fit(X, y)\n")
    assert result.success
    run = _last_run()
    # rule: --autolog lets MLflow record the estimator's params and training metrics
    assert run.data.params.get("max_depth") == "2"
    assert any(key.startswith("training_") for key in run.data.metrics)


def test_experiment_option_and_default(ip, monkeypatch) -> None:
    ip.run_cell("%%mlrun -e chosen\npass\n")
    # rule: -e picks the experiment
    assert _last_run("chosen").info.status == "FINISHED"
    ip.run_line_magic("mlworkspace", "--experiment course")
    ip.run_cell("%%mlrun\npass\n")
    # rule: %mlworkspace --experiment sets the default for later cells
    assert _last_run("course").info.status == "FINISHED"
    get_session().experiment_override = None
    monkeypatch.setenv("JPY_SESSION_NAME", "lessons/01-intro.ipynb")
    ip.run_cell("%%mlrun\npass\n")
    # rule: otherwise the notebook's file name is the experiment, and the run points at it
    run = _last_run("01-intro")
    assert run.data.tags["mlflow.source.type"] == "NOTEBOOK"
    assert run.data.tags["nbstudio.notebook"] == "lessons/01-intro.ipynb"


def test_mlworkspace_and_mlruns(ip, workspace) -> None:
    ip.run_cell("%%mlrun one -p lr=0.1\nimport mlflow\nmlflow.log_metric('acc', 0.9)\n")
    summary = ip.run_line_magic("mlworkspace", "")
    # rule: %mlworkspace shows folder, store, artifact root, default experiment and run counts
    text = repr(summary)
    assert str(workspace) in text
    assert "sqlite:///" in text
    assert "1 finished" in text
    table = ip.run_line_magic("mlruns", "-n 5")
    # rule: %mlruns lists runs with status, params and last metrics
    assert list(table["run_name"]) == ["one"]
    assert table["param.lr"].iloc[0] == "0.1"
    assert table["metric.acc"].iloc[0] == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("%%mlrun --bogus\npass\n", "unrecognized arguments: --bogus"),
        ("%%mlrun -p alpha\npass\n", "expected KEY=VALUE"),
        ("%%mlrun -p alpha=[1,2\npass\n", "is not a Python literal"),
        ("%%mlrun -p 2x=1\npass\n", "not a valid Python variable name"),
        ("%%mlrun -p 'a=\"unclosed\npass\n", "check the quotes"),
    ],
    ids=["unknown-option", "param-without-equals", "not-a-literal", "bad-name", "bad-quotes"],
)
def test_bad_options_are_one_line_usage_errors(ip, cell, message) -> None:
    before = len(mlflow.search_runs(search_all_experiments=True))
    result = ip.run_cell(cell)
    # rule: bad input is a UsageError saying what is wrong, and starts no run
    assert isinstance(result.error_in_exec, UsageError)
    assert message in str(result.error_in_exec)
    assert len(mlflow.search_runs(search_all_experiments=True)) == before


def test_active_run_left_by_user_is_a_clear_error(ip) -> None:
    ip.run_cell("import mlflow\nleft_open = mlflow.start_run()\n")
    # rule: plain mlflow calls before any magic already record into the workspace store
    assert ip.user_ns["left_open"].info.artifact_uri is not None
    result = ip.run_cell("%%mlrun\npass\n")
    # rule: a run left active by the user is explained, not a traceback from MLflow
    assert isinstance(result.error_in_exec, UsageError)
    assert "still active" in str(result.error_in_exec)
    mlflow.end_run()


def test_unreachable_tracking_server_answers_fast(ip, monkeypatch) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{port}")
    from nbstudio.session import reset_session

    reset_session()
    started = time.monotonic()
    result = ip.run_cell("%%mlrun\npass\n")
    # rule: an unreachable server is one clear line within 10 s, not minutes of retries
    assert isinstance(result.error_in_exec, UsageError)
    assert "unreachable" in str(result.error_in_exec)
    assert time.monotonic() - started < 10


def test_load_ext_is_fast_and_lazy() -> None:
    import subprocess
    import sys

    code = (
        "import time, sys\n"
        "from IPython.testing.globalipapp import get_ipython\n"
        "ip = get_ipython()\n"
        "t = time.perf_counter(); ip.run_line_magic('load_ext', 'nbstudio')\n"
        "print(time.perf_counter() - t, 'mlflow' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, mlflow_loaded = out.stdout.split()
    # rule: %load_ext nbstudio does not import mlflow
    assert mlflow_loaded == "False"
    assert float(seconds) < 1.0  # generous here; benchmarks/cell_overhead.py holds the target


def test_system_metrics_option_records_mlflows_system_metrics(ip) -> None:
    ip.run_cell("%%mlrun busy --system-metrics --no-monitor\nimport time\ntime.sleep(3)\n")
    run = _last_run()
    # rule: --system-metrics records CPU and memory as MLflow's own system/* metrics
    assert "system/cpu_utilization_percentage" in run.data.metrics
    assert "system/system_memory_usage_megabytes" in run.data.metrics


def _nbstudio_magics(ip) -> list[tuple[str, str]]:
    from nbstudio.jupyter.extension import MAGICS

    classes = {name for _, name in MAGICS}
    found = []
    for kind in ("line", "cell"):
        for name, func in ip.magics_manager.magics[kind].items():
            owner = getattr(func, "__self__", None)
            if type(owner).__name__ in classes:
                found.append((kind, name))
    return sorted(found)


def test_every_magic_answers_h_with_its_help(ip, capsys) -> None:
    magics = _nbstudio_magics(ip)
    assert ("cell", "mlrun") in magics
    for kind, name in magics:
        prefix = "%%" if kind == "cell" else "%"
        result = ip.run_cell(f"{prefix}{name} -h\npass\n" if kind == "cell" else f"%{name} -h")
        shown = capsys.readouterr().out
        # rule: -h on every magic shows its help (naming it as typed) and does nothing else
        assert result.error_in_exec is None, f"{prefix}{name} -h: {result.error_in_exec}"
        assert f"{prefix}{name}" in shown, f"{prefix}{name} -h showed: {shown[:200]}"


def test_p_values_follow_one_rule_literal_or_bare_word(ip) -> None:
    options = "-p kernel=rbf -p quoted=\"'rbf'\" -p layers='[64, 32]'"
    ip.run_cell(f"%%mlrun --no-monitor {options}\npass\n")
    # rule: a bare word is that string, a literal is its value (as README says)
    assert ip.user_ns["kernel"] == "rbf" == ip.user_ns["quoted"]
    assert ip.user_ns["layers"] == [64, 32]
    # rule: anything else is refused with a one-line hint on how to write it
    refused = ip.run_cell("%%mlrun --no-monitor -p total=a+b\npass\n").error_in_exec
    assert isinstance(refused, UsageError)
    assert "quoted strings" in str(refused)
