"""A sweep whose kernel dies mid-trial is resumed from a new kernel (real kernels, nbclient)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from nbstudio.session import reset_session
from nbstudio.sweep import get_sweep
from nbstudio.sweep.api import list_sweeps

SWEEP_LINE = (
    '%%mlrun tune -p x="uniform(0, 1)" --sweep maximize:acc --sampling sobol --seed 4 '
    "--max-trials 4"
)
BODY = """import os, signal
with open("bodies.txt", "a") as log:
    log.write(f"{x!r}\\n")
if len(open("bodies.txt").read().split()) == 3 and not os.path.exists("died"):
    open("died", "w").close()
    os.kill(os.getpid(), signal.SIGKILL)  # the kernel dies in the middle of trial 2
import mlflow
mlflow.log_metric("acc", x)
"""


def _run(folder: Path, cells: list[str]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "nbstudio.toml").write_text("")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    yield tmp_path
    reset_session()


def test_resume_after_the_kernel_died(folder: Path):
    with pytest.raises(DeadKernelError):
        _run(folder, ["%load_ext nbstudio", f"{SWEEP_LINE}\n{BODY}"])
    # A new kernel opens the workspace (which marks the dead kernel's runs KILLED) and resumes
    # the sweep it finds there.
    _run(
        folder,
        [
            "%load_ext nbstudio\nfrom nbstudio.sweep.api import list_sweeps\n"
            "(listed,) = list_sweeps()\nassert listed['status'] == 'KILLED', listed",
            f"{SWEEP_LINE} --resume {{listed['run_id']}}\n{BODY}",
        ],
    )
    reset_session(folder)
    (listed,) = list_sweeps()
    parent_id = listed["run_id"]
    sweep = get_sweep(parent_id)
    trials = sweep.trials
    bodies = (folder / "bodies.txt").read_text().split()
    # Rule: the resumed sweep finishes in the same parent run with max_total_trials done trials.
    assert sweep.status == "FINISHED"
    assert (trials["state"] == "finished").sum() == 4
    # Rule: the trial running when the kernel died ended KILLED (kernel-died), not RUNNING.
    assert trials.loc[2, "state"] == "interrupted"
    assert trials.loc[2, "terminated_by"] == "kernel-died"
    # Rule: finished trials are never rerun: 2 + the interrupted one + 2 new bodies ran in all.
    assert (trials.loc[[0, 1], "state"] == "finished").all()
    assert len(bodies) == 5
    # Rule: the interrupted trial is run again with the same params.
    assert trials.loc[3, "x"] == pytest.approx(trials.loc[2, "x"])
    assert float(bodies[3]) == pytest.approx(trials.loc[2, "x"])
