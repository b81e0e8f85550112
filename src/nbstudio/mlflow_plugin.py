"""MLflow's default-experiment plugin: a run started inside a run joins the parent's experiment.

``mlflow.start_run(nested=True)`` without ``experiment_id`` asks MLflow for "the current
experiment", which is ``Default`` unless ``mlflow.set_experiment`` was called; `%%mlrun` starts
its runs with an explicit experiment id instead, so children opened inside a cell landed in
``Default`` while their parent sat in the notebook's experiment. MLflow's documented extension
point for that question is the ``mlflow.default_experiment_provider`` entry point
(pyproject.toml): while a run is active in this thread, this provider answers with that run's
experiment.

The module lives outside ``nbstudio.tracking`` on purpose: MLflow loads it while ``mlflow`` itself
is still being imported, so it must import nothing of MLflow (or of nbstudio's core) at module
level.
"""

from __future__ import annotations


class ParentRunExperimentProvider:
    """Answers MLflow's "which experiment?" with the active run's experiment, when there is one."""

    def in_context(self) -> bool:
        import mlflow

        return mlflow.active_run() is not None

    def get_experiment_id(self) -> str | None:
        import mlflow

        active = mlflow.active_run()
        return active.info.experiment_id if active is not None else None
