"""%register_model, %models and load_model against the real registry."""

from __future__ import annotations

import mlflow
import numpy as np
import pytest
from IPython.core.error import UsageError

import nbstudio
from nbstudio.errors import ModelError


@pytest.fixture
def wine(ip):
    ip.run_cell(
        "from sklearn.datasets import load_wine\n"
        "from sklearn.pipeline import make_pipeline\n"
        "from sklearn.preprocessing import StandardScaler\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "X, y = load_wine(return_X_y=True, as_frame=True)\n"
    )
    ip.run_cell(
        "%%mlrun fit\n"
        "import mlflow\n"
        "clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)\n"
        "mlflow.log_metric('accuracy', clf.score(X, y))\n"
    )
    return ip


def test_register_load_by_alias_and_version(wine) -> None:
    ip = wine
    version = ip.run_line_magic(
        "register_model", "clf --name wine --alias champion --input-example X -t stage=demo"
    )
    # rule: a fitted pipeline becomes version 1, logged to the kernel's last run, alias set
    assert version.version == "1"
    assert version.run_id == nbstudio.get_session().last_run_id
    client = nbstudio.get_session().client()
    assert str(client.get_model_version_by_alias("wine", "champion").version) == "1"
    assert client.get_model_version("wine", "1").tags == {"stage": "demo"}
    X = ip.user_ns["X"]
    expected = ip.user_ns["clf"].predict(X)
    # rule: load_model gives back the native estimator by alias and by version
    assert np.array_equal(nbstudio.load_model("wine@champion").predict(X), expected)
    assert np.array_equal(nbstudio.load_model("wine/1").predict(X), expected)
    # rule: plain MLflow loads it too, with the signature from the input example
    pyfunc = mlflow.pyfunc.load_model("models:/wine@champion")
    assert np.array_equal(pyfunc.predict(X), expected)
    assert pyfunc.metadata.signature is not None
    # rule: a second registration is version 2 and the alias can move
    ip.run_line_magic("register_model", "clf --name wine --alias champion")
    assert str(client.get_model_version_by_alias("wine", "champion").version) == "2"
    table = ip.run_line_magic("models", "")
    # rule: %models lists versions with aliases and source runs
    assert list(table["version"]) == [2, 1]
    assert table["aliases"].iloc[0] == "champion"


def test_register_a_tree_ensemble(wine) -> None:
    ip = wine
    ip.run_cell(
        "from sklearn.ensemble import RandomForestClassifier\n"
        "forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)\n"
    )
    ip.run_line_magic("register_model", "forest --name forest --alias champion")
    # rule: tree models register and load back (no refusal of their internal types)
    predicted = nbstudio.load_model("forest@champion").predict(ip.user_ns["X"])
    assert np.array_equal(predicted, ip.user_ns["forest"].predict(ip.user_ns["X"]))


def test_register_a_runs_uri(wine) -> None:
    ip = wine
    first = ip.run_line_magic("register_model", "clf --name wine")
    second = ip.run_line_magic("register_model", f"{first.model_uri} --name wine-copy")
    # rule: a runs:/ or models:/ URI registers without a Python object
    assert second.version == "1"
    assert nbstudio.load_model("wine-copy").predict(ip.user_ns["X"][:3]).shape == (3,)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("missing --name m", "No variable named 'missing'"),
        ("notamodel --name m", "cannot save a builtins.dict"),
        ("unfitted --name m", "not fitted yet"),
        ("clf", "the following arguments are required: --name"),
        ("clf --name m --alias 9lives", "Alias '9lives' is not allowed"),
        ("clf --name m --run 0123456789abcdef", "no such run"),
        ("clf --name m --input-example nothere", "--input-example: no variable"),
    ],
    ids=["missing-var", "unsavable", "unfitted", "no-name", "bad-alias", "bad-run", "bad-example"],
)
def test_register_model_bad_input(wine, line, message) -> None:
    ip = wine
    ip.user_ns["notamodel"] = {"a": 1}
    ip.run_cell("from sklearn.linear_model import Ridge\nunfitted = Ridge()\n")
    result = ip.run_cell(f"%register_model {line}")
    # rule: every bad input is a one-line UsageError saying what is wrong
    assert isinstance(result.error_in_exec, UsageError)
    assert message in str(result.error_in_exec)
    # rule: nothing is left RUNNING
    assert mlflow.search_runs(search_all_experiments=True, filter_string="status='RUNNING'").empty


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("nope@champion", "No registered model named 'nope'"),
        ("wine@nope", "has no alias 'nope'"),
        ("wine/7", "has no version '7'"),
    ],
    ids=["unknown-model", "unknown-alias", "unknown-version"],
)
def test_load_model_unknown_reference(wine, reference, message) -> None:
    wine.run_line_magic("register_model", "clf --name wine --alias champion")
    with pytest.raises(ModelError, match=message) as raised:
        nbstudio.load_model(reference)
    # rule: IPython shows it as one line (the _render_traceback_ protocol)
    assert raised.value._render_traceback_() == [f"ModelError: {raised.value}"]


def test_registration_shows_no_mlflow_noise_and_one_line_for_integer_inputs(
    wine, caplog, recwarn
) -> None:
    ip = wine
    ip.run_cell("X_int = (X * 100).astype('int64')")
    version = ip.run_line_magic("register_model", "clf --name quiet --input-example X")
    noisy = [r.getMessage() for r in caplog.records if r.name.startswith("mlflow.sklearn")]
    hints = [str(w.message) for w in recwarn if "integer column" in str(w.message)]
    # rule: neither MLflow's pickle caution nor its integer-schema hint (here about the model's
    # integer predictions, where there is nothing to do) reaches the user
    assert noisy == []
    assert hints == []
    assert "note:" not in repr(version)
    with_ints = ip.run_line_magic("register_model", "clf --name quiet --input-example X_int")
    # rule: integer input columns, where the user can act, are said in one line of the result
    assert repr(with_ints).count("\n") == 1
    assert "integer columns" in repr(with_ints).splitlines()[1]
