"""Run an AutoML job: FLAML searches, nbstudio records it as a parent run with a child per trial.

The parent run (a `TrackedRun`, so it always ends FINISHED, FAILED or KILLED) carries the job's
settings as tags and the best value so far as a metric; `TrialWriter` turns FLAML's per-trial log
into child runs from a process of its own, so recording them takes no time from the search in
this one. When the search ends the best model (FLAML's fitted ``AutoML`` object, which predicts
the labels as given) is logged through nbstudio's registry path, with flaml and the libraries
of the chosen estimator pinned; ``register`` registers it, test data evaluate it. An interrupt
ends the parent KILLED and keeps every trial already run (`InterruptsKept`: also when a
learner's library swallows it).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mlflow
import numpy as np

from nbstudio.automl.errors import AutoMLError
from nbstudio.automl.interrupts import InterruptsKept
from nbstudio.automl.result import AutoMLResult
from nbstudio.automl.settings import TAG_PREFIX, AutoMLSettings
from nbstudio.automl.writer import TrialWriter
from nbstudio.automl.writer import prepare as prepare_writer
from nbstudio.session import get_session
from nbstudio.tracking import RunSpec, TrackedRun

#: Distributions a best model of each estimator needs at load time, beyond scikit-learn's.
ESTIMATOR_REQUIREMENTS = {
    "lgbm": ("lightgbm",),
    "xgboost": ("xgboost",),
    "xgb_limitdepth": ("xgboost",),
    "catboost": ("catboost",),
}
TAG_BEST_ESTIMATOR = TAG_PREFIX + "best_estimator"
TAG_BEST_RUN = TAG_PREFIX + "best_run_id"


def requirements_for(estimator: str | None) -> list[str]:
    """What to pin beside MLflow and scikit-learn for a model found by FLAML."""
    return ["flaml", *ESTIMATOR_REQUIREMENTS.get(estimator or "", ())]


def run_job(
    X: Any,
    y: Any,
    settings: AutoMLSettings,
    *,
    name: str | None = None,
    experiment: str | None = None,
    register: str | None = None,
    aliases: tuple[str, ...] = (),
    X_test: Any = None,
    y_test: Any = None,
    tags: dict[str, str] | None = None,
    on_start: Callable[[str], None] | None = None,
) -> AutoMLResult:
    """Search in this process (the kernel, or a Dask worker) and record it; see the module doc.

    ``on_start(parent_run_id)`` is called once the parent run exists (e.g. to show its monitor).
    """
    from flaml import AutoML

    if len(np.asarray(y)) < 2:
        raise AutoMLError("AutoML needs training data: y has fewer than 2 rows.")
    session = get_session()
    spec = RunSpec(
        name=name or f"automl-{settings.task}",
        experiment=experiment,
        tags={**settings.tags(), **(tags or {})},
        nested=mlflow.active_run() is not None,
    )
    automl = AutoML()
    prepare_writer()  # its imports overlap the parent run's creation, not the search
    with (
        TrackedRun(spec, session) as run,
        tempfile.TemporaryDirectory(prefix="nbstudio-automl-") as tmp,
    ):
        parent_run_id = run.run_id
        assert parent_run_id is not None
        if on_start is not None:
            on_start(parent_run_id)
        experiment_id = mlflow.get_run(parent_run_id).info.experiment_id
        writer = TrialWriter(
            session.workspace.tracking_uri,
            experiment_id,
            parent_run_id,
            Path(tmp, "flaml.log"),
            settings.metric,
        ).start()
        started = time.monotonic()
        try:
            try:
                with InterruptsKept():
                    automl.fit(X, y, log_file_name=str(writer.log_path), **settings.flaml_args())
            except (ValueError, TypeError) as exc:
                raise AutoMLError(f"FLAML cannot search this data: {exc}") from None
        finally:
            mlflow.log_metric("search_seconds", time.monotonic() - started)
            writer.close()  # every trial FLAML finished is kept, also after an interrupt
        if writer.errors:
            raise AutoMLError(f"{len(writer.errors)} trials not recorded: {writer.errors[0]}")
        best_estimator = automl.best_estimator
        if best_estimator is None:
            raise AutoMLError("FLAML found no model within the limits: give it more time.")
        best = writer.best
        client = session.client()
        client.set_tag(parent_run_id, TAG_BEST_ESTIMATOR, best_estimator)
        if best is not None and best.run_id:
            client.set_tag(parent_run_id, TAG_BEST_RUN, best.run_id)
        from nbstudio.models.registry import log_model, register_model

        requirements = requirements_for(best_estimator)
        # No input example: MLflow would load the saved model back to validate it (5 s).
        example = None
        registered = None
        if register:  # logged and registered in one step
            registered = register_model(
                automl,
                register,
                aliases=list(aliases),
                run_id=parent_run_id,
                input_example=example,
                requirements=requirements,
            )
            model_uri = registered.model_uri
        else:
            model_uri = log_model(automl, parent_run_id, example, requirements)
        evaluation = None
        if X_test is not None and y_test is not None:
            from nbstudio.evaluation import evaluate

            evaluation = evaluate(automl, X_test, y_test, run_id=parent_run_id)
    return AutoMLResult(
        parent_run_id=parent_run_id,
        settings=settings,
        automl=automl,
        model_uri=model_uri,
        registered=registered,
        evaluation=evaluation,
        data=(X, y),
    )
