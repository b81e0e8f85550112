"""The models a run logged (MLflow 3 logged models), for the run view, and registering one.

The run view lists what ``mlflow.<flavor>.log_model`` recorded for a run, with the registry
versions already made from each, and registers one under a name with the same
`nbstudio.models.registry.register_model` that ``%register_model`` calls.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from mlflow.exceptions import MlflowException

from nbstudio.errors import NotFoundError
from nbstudio.models.registry import register_model
from nbstudio.session import Session, get_session
from nbstudio.tracking.changes import LoggedModelRef, logged_models


def _models_of(run_id: str, session: Session) -> list[LoggedModelRef]:
    session.workspace  # noqa: B018 - opens the store
    try:
        session.client().get_run(run_id)
    except MlflowException:
        raise NotFoundError(f"No run with id {run_id!r}.") from None
    return logged_models(run_id, session)


def run_models_json(run_id: str, session: Session | None = None) -> list[dict[str, Any]]:
    """``[{model_id, name, uri, registered: ["NAME/VERSION", ...]}]``, oldest first."""
    models = _models_of(run_id, session or get_session())
    return [{**asdict(m), "registered": list(m.registered)} for m in models]


def register_logged_model(
    run_id: str, model_id: str, name: str, session: Session | None = None
) -> dict[str, Any]:
    """Register the model ``model_id`` that run ``run_id`` logged as a new version of ``name``."""
    session = session or get_session()
    if model_id not in {m.model_id for m in _models_of(run_id, session)}:
        raise NotFoundError(f"Run {run_id} logged no model {model_id!r}.")
    version = register_model(f"models:/{model_id}", name.strip())
    return {"name": version.name, "version": version.version, "run_id": run_id}
