"""Evaluation of any classifier or regressor: metrics, plotly figures as artifacts, budgets."""

from __future__ import annotations

import importlib.util
import time

import numpy as np
import plotly.io as pio
import pytest
from IPython.core.error import UsageError
from sklearn.datasets import load_diabetes, load_wine
from sklearn.linear_model import LogisticRegression, Ridge

import nbstudio
from nbstudio.evaluation import EvaluationError
from nbstudio.evaluation.importance import permutation_importance

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def wine():
    X, y = load_wine(return_X_y=True, as_frame=True)
    names = np.array(["barolo", "grignolino", "barbera"])[y]
    model = LogisticRegression(max_iter=2000).fit(X.iloc[::2], names[::2])
    return model, X.iloc[1::2], names[1::2]


def test_classifier_metrics_and_figures_logged_as_plotly_artifacts(workspace, wine) -> None:
    model, X, y = wine
    evaluation = nbstudio.evaluate(model, X, y)
    expected = {"accuracy", "AUC_weighted", "AUC_macro", "AUC_micro", "log_loss"}
    # rule: a classifier gets accuracy, precision/recall/F1, AUC (weighted/macro/micro), log loss
    assert expected <= set(evaluation.metrics)
    assert {"precision_score_weighted", "recall_score_macro", "f1_score_weighted"} <= set(
        evaluation.metrics
    )
    client = nbstudio.get_session().client()
    run = client.get_run(evaluation.run_id)
    # rule: metrics are MLflow metrics of the run (test_ prefix)
    assert run.data.metrics["test_accuracy"] == pytest.approx(evaluation.metrics["accuracy"])
    paths = {a.path for a in client.list_artifacts(evaluation.run_id, "evaluation")}
    names = ["confusion_matrix", "roc_curve", "precision_recall_curve", "calibration"]
    names.append("permutation_importance")
    # rule: every figure is an evaluation/<name>.plotly.json artifact plotly reads back
    assert paths == {f"evaluation/{n}.plotly.json" for n in names}
    local = client.download_artifacts(evaluation.run_id, "evaluation/roc_curve.plotly.json")
    roc = pio.read_json(local)
    trace_names = [t.name for t in roc.data]
    # rule: ROC has a curve per class plus micro and macro averages for more than two classes
    for label in ("barolo", "grignolino", "barbera", "micro", "macro"):
        assert any(name.startswith(label) for name in trace_names)
    matrix = evaluation.figures["confusion_matrix"].data[0].z
    assert int(np.sum(matrix)) == len(y)


def test_regressor_metrics_and_residual_plots(workspace) -> None:
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    model = Ridge().fit(X.iloc[:300], y.iloc[:300])
    evaluation = nbstudio.evaluate(model, X.iloc[300:], y.iloc[300:], importance=False)
    # rule: a regressor gets MAE, MSE, RMSE and r2, and residual / predicted-vs-actual plots
    assert {"mean_absolute_error", "mean_squared_error", "root_mean_squared_error"} <= set(
        evaluation.metrics
    )
    assert evaluation.metrics["root_mean_squared_error"] == pytest.approx(
        np.sqrt(evaluation.metrics["mean_squared_error"])
    )
    assert set(evaluation.figures) == {"predicted_vs_actual", "residuals"}


class SlowModel:
    """A classifier whose every prediction takes 0.1 s."""

    _estimator_type = "classifier"

    def predict(self, X):
        time.sleep(0.1)
        return np.zeros(len(X), dtype=int)


def test_permutation_importance_keeps_its_budget() -> None:
    X = np.random.default_rng(0).normal(size=(5000, 30))
    y = np.zeros(5000, dtype=int)
    started = time.monotonic()
    found = permutation_importance(SlowModel(), X, y, classifier=True, repeats=10, budget=1.0)
    # rule: permutation importance stops on its time budget, at most 3 repeats
    assert time.monotonic() - started < 1.5
    assert not found.complete
    assert found.repeats <= 3
    fast = permutation_importance(
        LogisticRegression().fit(X[:200], (X[:200, 0] > 0).astype(int)),
        X,
        (X[:, 0] > 0).astype(int),
        classifier=True,
        repeats=10,
    )
    # rule: at most 3 repeats, and the informative feature ranks first
    assert fast.repeats == 3
    assert int(np.nanargmax(fast.means)) == 0


def test_bad_input_is_one_line(workspace, wine) -> None:
    model, X, y = wine
    with pytest.raises(EvaluationError, match="has no predict"):
        nbstudio.evaluate(object(), X, y)
    with pytest.raises(EvaluationError, match="predicted 89 values for 3 labels"):
        nbstudio.evaluate(model, X, y[:3], log=False)
    with pytest.raises(EvaluationError, match="--explain 'lime'"):
        nbstudio.evaluate(model, X, y, explain="lime")
    if importlib.util.find_spec("shap") is None:
        # rule: SHAP is optional: asking for it without the package says how to get it
        with pytest.raises(EvaluationError, match="pip install shap"):
            nbstudio.evaluate(model, X, y, explain="shap", log=False)


def test_mlrun_evaluate_logs_to_the_cells_run(ip) -> None:
    ip.run_cell(
        "from sklearn.datasets import load_wine\n"
        "from sklearn.ensemble import RandomForestClassifier\n"
        "X, y = load_wine(return_X_y=True)\n"
        "X_test, y_test = X[1::2], y[1::2]\n"
    )
    ip.run_cell(
        "%%mlrun forest --evaluate X_test,y_test --no-monitor\n"
        "n = 20\n"
        "forest = RandomForestClassifier(n_estimators=n, random_state=0).fit(X[::2], y[::2])\n"
    )
    session = nbstudio.get_session()
    run = session.client().get_run(session.last_run_id)
    # rule: --evaluate evaluates the model the cell assigned, inside the cell's run
    assert run.info.status == "FINISHED"
    assert run.data.metrics["test_accuracy"] > 0.8
    paths = {a.path for a in session.client().list_artifacts(run.info.run_id, "evaluation")}
    assert "evaluation/confusion_matrix.plotly.json" in paths
    with pytest.raises(UsageError, match="expected X_test,y_test"):
        ip.run_cell("%%mlrun --evaluate X_test\nx = 1\n").raise_error()


def test_monitor_final_state_shows_the_evaluation_plots_as_an_image(workspace, wine) -> None:
    from nbstudio.jupyter.widgets.live import monitor

    model, X, y = wine
    evaluation = nbstudio.evaluate(model, X, y, importance=False)
    final = monitor(evaluation.run_id).final
    # rule: a saved notebook shows the evaluation plots in the monitor's final state (a PNG)
    assert final is not None
    assert 'alt="evaluation of run' in final["text/html"]
    assert "data:image/png;base64," in final["text/html"]
