"""One resolver of registered model references, shared by endpoints, batch jobs and drift."""

from __future__ import annotations

import mlflow
import pytest

import nbstudio
from nbstudio.batch.errors import BatchError
from nbstudio.batch.jobs import score
from nbstudio.drift.api import training_input
from nbstudio.drift.errors import DriftError
from nbstudio.errors import ModelError
from nbstudio.models.references import resolve_model


@pytest.fixture
def two_versions(workspace):
    from sklearn.linear_model import LogisticRegression

    nbstudio.get_session().workspace  # noqa: B018
    X, y = [[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]
    for _ in range(2):
        with mlflow.start_run():
            nbstudio.register_model(LogisticRegression().fit(X, y), name="m")
    mlflow.MlflowClient().set_registered_model_alias("m", "champion", "1")


def test_references_pin_one_version(two_versions):
    # rule: an alias, a version and a bare name (latest) each pin one version, with its artifacts
    assert resolve_model("m@champion").version == "1"
    assert resolve_model("m/2").uri == "models:/m/2"
    assert resolve_model("models:/m").version == "2"
    assert resolve_model("m/1").source != resolve_model("m/2").source


def test_errors_say_what_the_reference_was_for(two_versions):
    # rule: one line saying what the model was wanted for, typed by the caller's concept
    with pytest.raises(ModelError, match="deploy a registered model as NAME@ALIAS"):
        resolve_model("runs:/abc/model")
    with pytest.raises(BatchError, match="score with a registered model as NAME@ALIAS"):
        score("runs:/abc/model", "anything@1")
    with pytest.raises(DriftError, match="check a registered model as NAME@ALIAS"):
        training_input("runs:/abc/model")
    # rule: an unknown alias names the aliases that exist
    with pytest.raises(BatchError, match=r"no alias 'gold' \(aliases: @champion -> v1\)"):
        score("m@gold", "anything@1")
