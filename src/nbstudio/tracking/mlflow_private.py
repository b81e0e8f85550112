"""Every use of a name MLflow keeps private (a leading underscore), in one place.

MLflow may rename or drop any of these in a minor release. Keeping them here means an upgrade that
breaks one breaks this module only, where each use says what it stands for and what nbstudio does
without it. ``tests/test_mlflow_private.py`` fails if any other module of ``src/nbstudio`` imports
or reads a private MLflow name.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any


def tracking_store(client: Any) -> Any:
    """The store object behind an ``MlflowClient`` (MLflow caches one per tracking URI)."""
    return client._tracking_client.store


def sql_dialect(store: Any) -> str:
    """The SQL dialect name of a ``SqlAlchemyStore`` as MLflow's search helpers expect it."""
    return store._get_dialect()


def attribute_identifier() -> str:
    """The identifier type MLflow's search parser gives run attributes ("attribute")."""
    from mlflow.utils.search_utils import SearchUtils

    return getattr(SearchUtils, "_ATTRIBUTE_IDENTIFIER", "attribute")


def metric_name_validator() -> Callable[[Any], None]:
    """MLflow's own check of a metric name, or a no-op when a later MLflow moved it."""
    try:
        from mlflow.utils.validation import _validate_metric_name
    except ImportError:  # a later MLflow: MLflow's store still refuses bad names when it writes

        def _validate_metric_name(name: Any, path: str = "name") -> None:
            return None

    return _validate_metric_name


SERIALIZATION_HOOK = "_get_default_serialization_format"
"""The function ``mlflow.sklearn`` asks for its default model format (skops or cloudpickle)."""


def sklearn_default_format() -> Any:
    """``mlflow.sklearn``'s default-format function, or None (no sklearn flavor, later MLflow)."""
    with contextlib.suppress(ImportError):
        import mlflow.sklearn as flavor

        return getattr(flavor, SERIALIZATION_HOOK, None)
    return None


def set_sklearn_default_format(function: Any) -> None:
    import mlflow.sklearn as flavor

    setattr(flavor, SERIALIZATION_HOOK, function)


def forget_sql_engine(db_uri: str) -> None:
    """Close the engine MLflow's SQL store keeps per database URI (still open on a store that
    MLflow refused to open, which is then removed and made again)."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    engine = SqlAlchemyStore._engine_map.pop(db_uri, None)
    if engine is not None:
        engine.dispose()


def build_requirements_map() -> None:
    """Build MLflow's map of installed packages to modules, which the first model it saves
    builds from every distribution's metadata (0.4 s quiet, seconds loaded) to check the
    model's requirements; built once per process, so a warm-up can pay it instead."""
    from mlflow.utils import requirements_utils

    requirements_utils._init_packages_to_modules_map()


def serving_environment_variable() -> str:
    """The environment variable MLflow sets inside its model server (a model reads it)."""
    from mlflow.environment_variables import _MLFLOW_IS_IN_SERVING_ENVIRONMENT

    return _MLFLOW_IS_IN_SERVING_ENVIRONMENT.name


def metric_history_page(
    client: Any, run_id: str, key: str, max_results: int, offset: int
) -> tuple[list[Any], bool]:
    """One page of a metric's history from ``offset`` (the store pages; the client does not)."""
    from mlflow.utils.search_utils import SearchUtils

    token = SearchUtils.create_page_token(offset).decode() if offset else None
    page = tracking_store(client).get_metric_history(
        run_id, key, max_results=max_results, page_token=token
    )
    return list(page), bool(getattr(page, "token", None))
