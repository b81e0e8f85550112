"""``%%mlrun --sweep``: a cell as a sweep's trial body, through a real IPython shell and store."""

from __future__ import annotations

import mlflow
import pytest
from IPython.core.error import UsageError

from nbstudio.session import get_session
from nbstudio.sweep import Sweep
from nbstudio.sweep.api import list_sweeps

CELL = (
    "import mlflow\n"
    "score = (1.0 if kernel == 'rbf' else 0.5) * C / (1 + C)\n"
    "for epoch in range(3):\n"
    "    mlflow.log_metric('accuracy', score * (epoch + 1) / 3, step=epoch)\n"
    "print('trial', kernel)\n"
)


def _children(parent_run_id: str) -> list:
    client = get_session().client()
    parent = client.get_run(parent_run_id)
    runs = client.search_runs(
        [parent.info.experiment_id], f"tags.`mlflow.parentRunId` = '{parent_run_id}'"
    )
    return sorted(runs, key=lambda r: int(r.data.tags["nbstudio.trial"]))


def test_sweep_cell_runs_trials_and_binds_the_sweep(ip, capsys):
    result = ip.run_cell(
        "%%mlrun tune -p C=\"loguniform(1e-3, 1e2)\" -p kernel=\"choice('linear','rbf')\" "
        "-p tol=0.001 -t team=nlp --sweep maximize:accuracy --sampling bayesian --max-trials 4 "
        '--policy "bandit(slack_factor=0.1, delay_evaluation=3)" --seed 1\n' + CELL
    )
    assert result.success, result.error_in_exec
    sweep = ip.user_ns["_sweep"]
    # Rule: the result is bound to _sweep.
    assert isinstance(sweep, Sweep)
    parent = get_session().client().get_run(sweep.run_id)
    # Rule: the parent run has the cell's name, tags, settings and source.
    assert parent.info.run_name == "tune"
    assert parent.data.tags["team"] == "nlp"
    assert parent.data.tags["nbstudio.sweep.policy"] == (
        "bandit(slack_factor=0.1, evaluation_interval=1, delay_evaluation=3)"
    )
    assert "mlflow.log_metric('accuracy'" in mlflow.artifacts.load_text(
        f"runs:/{sweep.run_id}/cell.py"
    )
    runs = _children(sweep.run_id)
    # Rule: each trial is a child run whose params arrived as variables in the cell.
    assert len(runs) == 4
    for run in runs:
        params = run.data.params
        assert set(params) == {"C", "kernel", "tol"}
        assert params["tol"] == "0.001"
        assert run.data.tags["team"] == "nlp"
        if run.info.status == "FINISHED":
            C, rbf = float(params["C"]), params["kernel"] == "rbf"
            expected = (1.0 if rbf else 0.5) * C / (1 + C)
            assert run.data.metrics["accuracy"] == pytest.approx(expected)
    out = capsys.readouterr().out
    # Rule: the cell's own output shows, and a progress line with the best value.
    assert "trial " in out
    assert "Sweep tune: 4/4 trials" in out
    assert "best accuracy = " in out


def test_policy_stops_trials_of_a_cell_that_only_calls_log_metric(ip, capsys):
    ip.run_cell("calls = []")
    result = ip.run_cell(
        '%%mlrun -p x="uniform(0, 1)" --sweep maximize:acc --max-trials 3 '
        '--policy "bandit(slack_amount=0.1)" --out result\n'
        "import mlflow\n"
        "value = 1.0 if not calls else 0.2\n"
        "calls.append([])\n"
        "for i in range(4):\n"
        "    calls[-1].append(i)\n"
        "    mlflow.log_metric('acc', value)\n"
    )
    assert result.success, result.error_in_exec
    runs = _children(ip.user_ns["result"].run_id)
    # Rule: a cell stopped by the policy ends KILLED at its first report, the sweep goes on.
    assert [r.info.status for r in runs] == ["FINISHED", "KILLED", "KILLED"]
    assert ip.user_ns["calls"] == [[0, 1, 2, 3], [0], [0]]
    assert runs[1].data.tags["nbstudio.terminated_by"] == "bandit"
    # Rule: stopped trials say nothing each in the cell's output (the sweep's view marks them).
    assert "stopped early by" not in capsys.readouterr().out


def test_failing_trial_cell_does_not_stop_the_sweep(ip):
    result = ip.run_cell(
        '%%mlrun -p k="choice(1, 2, 3)" --sweep minimize:loss --sampling grid\n'
        "import mlflow\n"
        "if k == 2:\n"
        "    raise ValueError('k=2 is broken')\n"
        "mlflow.log_metric('loss', k)\n"
    )
    assert result.success, result.error_in_exec
    sweep = ip.user_ns["_sweep"]
    # Rule: a failing trial is FAILED, the others finish, the best is a finished trial.
    assert sorted(sweep.trials["state"]) == ["failed", "finished", "finished"]
    assert sweep.best.params == {"k": 1}


def test_resume_from_the_magic(ip):
    head = '%%mlrun -p x="uniform(0, 1)" --sweep maximize:acc --sampling sobol --seed 2 '
    body = "import mlflow\nmlflow.log_metric('acc', x)\n"
    assert ip.run_cell(head + "--max-trials 2\n" + body).success
    first = ip.user_ns["_sweep"]
    result = ip.run_cell(head + f"--max-trials 4 --resume {first.run_id}\n" + body)
    # Rule: --resume continues the same parent run up to the new limit.
    assert result.success, result.error_in_exec
    assert ip.user_ns["_sweep"].run_id == first.run_id
    assert len(ip.user_ns["_sweep"].trials) == 4
    assert len(list_sweeps()) == 1


BAD_OPTIONS = [
    pytest.param('-p C="uniform(0, 1)"', "add --sweep maximize:METRIC", id="no-goal"),
    pytest.param(
        "-p C=1 --sweep maximize:acc", "at least one -p with a distribution", id="no-dist"
    ),
    pytest.param('-p C="uniform(0, 1)" --sweep acc', "expected maximize:METRIC", id="bad-goal"),
    pytest.param(
        '-p C="loguniform(0, 1)" --sweep max:acc',
        "bounds are values and must be > 0",
        id="space",
    ),
    pytest.param('-p C="gauss(0, 1)" --sweep max:acc', "neither a Python literal", id="unknown"),
    pytest.param(
        '-p C="uniform(0, 1)" --sweep max:acc --policy "bandit()"', "exactly one", id="policy"
    ),
    pytest.param('-p C="uniform(0, 1)" --sweep max:acc --sampling grid', "needs choice", id="grid"),
    pytest.param(
        '-p C="uniform(0, 1)" --sweep max:acc --max-concurrent 3', "one at a time", id="conc"
    ),
    pytest.param('-p C="uniform(0, 1)" --sweep max:acc --nested', "--nested", id="nested"),
    pytest.param('-p C="uniform(0, 1)" --sweep max:acc --timeout x', "timeout", id="timeout"),
    pytest.param('-p C="uniform(0, 1)" --sweep max:acc --resume 0123', "no such run", id="resume"),
]


def test_bad_sweep_options_are_one_line_usage_errors(ip):
    for case in BAD_OPTIONS:
        line, message = case.values
        result = ip.run_cell(f"%%mlrun {line}\npass\n")
        # Rule: bad sweep options are a UsageError saying what is wrong.
        assert isinstance(result.error_in_exec, UsageError), case.id
        assert message in str(result.error_in_exec), case.id
    get_session().workspace  # noqa: B018
    # Rule: they leave no run behind.
    assert mlflow.search_runs(search_all_experiments=True).empty
