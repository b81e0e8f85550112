"""``runs/<id>/models``: the models a run logged, and registering one from the run view."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import tornado.httpclient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from helpers.workspace import module_workspace

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory):
    """A workspace with one run that logged a scikit-learn model, and one that logged none."""
    from types import SimpleNamespace

    with module_workspace(tmp_path_factory.mktemp("run-models") / "ws") as root:
        import mlflow
        import mlflow.sklearn
        from sklearn.datasets import load_iris
        from sklearn.linear_model import LogisticRegression

        from nbstudio.session import get_session

        session = get_session()
        session.workspace  # noqa: B018 - points mlflow at the workspace
        X, y = load_iris(return_X_y=True)
        with mlflow.start_run(experiment_id=session.experiment_id("models-rest")) as run:
            info = mlflow.sklearn.log_model(
                LogisticRegression(max_iter=300).fit(X, y), name="model", pip_requirements=[]
            )
        with mlflow.start_run(experiment_id=session.experiment_id("models-rest")) as bare:
            mlflow.log_param("a", 1)
        yield SimpleNamespace(
            root=root, run_id=run.info.run_id, model_id=info.model_id, bare=bare.info.run_id
        )


async def call(jp_fetch, *path: str, body: object = None) -> tuple[int, dict]:
    kwargs = {} if body is None else {"method": "POST", "body": json.dumps(body)}
    try:
        response = await jp_fetch("nbstudio", "api", *path, **kwargs)
    except tornado.httpclient.HTTPClientError as exc:
        return exc.code, json.loads(exc.response.body)
    return response.code, json.loads(response.body)


async def test_lists_and_registers_a_logged_model(jp_fetch, session, populated) -> None:
    code, body = await call(jp_fetch, "runs", populated.run_id, "models")
    # rule: the run view gets the model the run logged, not yet registered
    assert code == 200
    assert [(m["model_id"], m["name"], m["registered"]) for m in body["models"]] == [
        (populated.model_id, "model", [])
    ]
    path = ("runs", populated.run_id, "models", populated.model_id, "register")
    code, version = await call(jp_fetch, *path, body={"name": "iris-classifier"})
    # rule: Register makes version 1 of the named model, from this run
    assert (code, version["name"], version["version"]) == (200, "iris-classifier", "1")
    assert session.client().get_model_version("iris-classifier", "1").run_id == populated.run_id
    _, body = await call(jp_fetch, "runs", populated.run_id, "models")
    # rule: the listing then shows the version made from the model
    assert body["models"][0]["registered"] == ["iris-classifier/1"]
    _, bare = await call(jp_fetch, "runs", populated.bare, "models")
    # rule: a run that logged no model lists none
    assert bare == {"models": []}


@pytest.mark.parametrize(
    ("body", "code"),
    [({}, 400), ({"name": ""}, 400), ({"name": 5}, 400), ([1], 400), ({"name": "x/y"}, 400)],
)
async def test_bad_register_input_is_a_one_line_400(jp_fetch, populated, body, code) -> None:
    path = ("runs", populated.run_id, "models", populated.model_id, "register")
    got, answer = await call(jp_fetch, *path, body=body)
    # rule: bad input is a 400 with a one-line JSON message, never a 500
    assert got == code, answer
    assert answer["message"]
    assert "\n" not in answer["message"]


async def test_unknown_run_or_model_is_a_404(jp_fetch, populated) -> None:
    code, answer = await call(jp_fetch, "runs", "0" * 32, "models")
    # rule: an unknown run is a 404
    assert code == 404
    path = ("runs", populated.bare, "models", populated.model_id, "register")
    code, answer = await call(jp_fetch, *path, body={"name": "x"})
    # rule: a model the run did not log cannot be registered from it
    assert code == 404, answer
