"""An AutoML job on a node of a real Dask compute target, recorded in the kernel's store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_wine

import nbstudio
from helpers.compute import running_cluster

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    with running_cluster(tmp_path_factory.mktemp("automl-cluster"), "cpu") as root:
        yield root


def test_automl_runs_on_a_compute_node(cluster: Path) -> None:
    X, y = load_wine(return_X_y=True, as_frame=True)
    labels = np.array(["barolo", "grignolino", "barbera"])[y]
    result = nbstudio.automl(X, labels, max_trials=4, estimators="lgbm,rf", compute="cpu", seed=0)
    client = nbstudio.get_session().client()
    parent = client.get_run(result.parent_run_id)
    # rule: the job ran on a worker process, not in this one, and wrote to the kernel's store
    assert parent.data.tags["nbstudio.pid"] != str(__import__("os").getpid())
    assert parent.info.status == "FINISHED"
    # rule: its trials are child runs there, and the result comes back with a working model
    assert len(result.leaderboard) == 4
    assert set(result.model.predict(X.head())) <= set(labels)
