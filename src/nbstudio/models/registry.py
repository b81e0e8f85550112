"""Register models in the MLflow model registry, list them, and load them back by alias or version.

Models are logged with their native MLflow flavor (so ``mlflow.pyfunc.load_model`` works on every
one of them) and pinned to the versions already captured for the kernel's environment, instead of
letting MLflow spend seconds inferring requirements in a subprocess.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException

from nbstudio.errors import ModelError
from nbstudio.session import Session, get_session
from nbstudio.tracking import environment
from nbstudio.tracking.filters import check_quotable, equals

MODEL_ARTIFACT = "model"
_ALIAS = re.compile(r"^[A-Za-z_][\w\-]*$")


@dataclass
class RegisteredVersion:
    """A model version just registered, shown as one line in a notebook."""

    name: str
    version: str
    aliases: list[str]
    run_id: str
    model_uri: str
    flavor: str
    seconds: float = 0.0
    tags: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        aliases = f" (aliases: {', '.join('@' + a for a in self.aliases)})" if self.aliases else ""
        line = (
            f"Registered {self.name} version {self.version}{aliases} from run {self.run_id} "
            f"[{self.flavor}] in {self.seconds:.2f} s; load it with "
            f"nbstudio.load_model({self.reference!r})"
        )
        return "\n".join([line, *(f"  note: {note}" for note in self.notes)])

    @property
    def reference(self) -> str:
        return f"{self.name}@{self.aliases[0]}" if self.aliases else f"{self.name}/{self.version}"


INTEGER_COLUMNS_NOTE = (
    "the input example has integer columns: a missing value there will fail MLflow's schema "
    "check at inference (cast them to float64 if values can be missing)"
)


def _has_integer_columns(example: Any) -> bool:
    dtypes = getattr(example, "dtypes", None)
    if dtypes is not None:
        return any(pd.api.types.is_integer_dtype(dtype) for dtype in dtypes)
    dtype = getattr(example, "dtype", None)
    return dtype is not None and pd.api.types.is_integer_dtype(dtype)


@contextlib.contextmanager
def _plain_mlflow() -> Iterator[None]:
    """Log a model without MLflow's noise, shown in red to a newcomer: its pickle caution
    (nbstudio saves scikit-learn models with cloudpickle on purpose: skops refuses tree models)
    and its long integer-schema hint, which it also gives for a model's integer predictions,
    where there is nothing to do (`_has_integer_columns` says it in one line when the input
    has them). Other warnings pass as they are."""
    sklearn_logger = logging.getLogger("mlflow.sklearn")
    level = sklearn_logger.level
    sklearn_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        sklearn_logger.setLevel(level)
    for warning in caught:
        if "integer column" not in str(warning.message):
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )


def _flavor_for(model: Any) -> tuple[Any, dict[str, Any], list[str]]:
    """The MLflow flavor module that can save ``model``, its save arguments and its pins."""
    if "sklearn" in sys.modules:
        from sklearn.base import BaseEstimator
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted

        if isinstance(model, BaseEstimator):
            try:
                check_is_fitted(model)
            except NotFittedError:
                raise ModelError(
                    f"The {type(model).__name__} is not fitted yet: call .fit(...) first."
                ) from None
            except TypeError:
                pass  # not an estimator check_is_fitted understands; MLflow will tell
            from mlflow import sklearn as mlflow_sklearn

            pins = environment.pinned(
                "mlflow", "scikit-learn", "cloudpickle", "numpy", "pandas", "scipy"
            )
            # The model was trained in this kernel, so it is trusted: cloudpickle saves every
            # estimator, where skops (MLflow's default when installed) refuses tree models.
            save_args = {
                "sk_model": model,
                "serialization_format": mlflow_sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
            }
            return mlflow_sklearn, save_args, pins
    from mlflow.pyfunc import PythonModel

    if isinstance(model, PythonModel):
        pins = environment.pinned("mlflow", "cloudpickle", "numpy", "pandas")
        return mlflow.pyfunc, {"python_model": model}, pins
    raise ModelError(
        f"nbstudio cannot save a {type(model).__module__}.{type(model).__name__}: it saves "
        "scikit-learn estimators and pipelines and mlflow.pyfunc.PythonModel objects. Log other "
        "models with their MLflow flavor and register the runs:/ URI instead."
    )


def _target_run(session: Session, run_id: str | None, name: str) -> str:
    client = session.client()
    if run_id:
        try:
            return client.get_run(run_id).info.run_id
        except MlflowException:
            raise ModelError(
                f"--run {run_id}: no such run in {session.workspace.tracking_uri}"
            ) from None
    active = mlflow.active_run()
    if active is not None:  # called from inside a %%mlrun cell
        return active.info.run_id
    if session.last_run_id:
        return session.last_run_id
    run = client.create_run(
        session.experiment_id(), run_name=f"register-{name}", tags={"nbstudio.kind": "register"}
    )
    client.set_terminated(run.info.run_id, "FINISHED")
    return run.info.run_id


def _check_aliases(aliases: list[str]) -> None:
    for alias in aliases:
        if not _ALIAS.match(alias) or re.fullmatch(r"[vV]\d+|latest", alias):
            raise ModelError(
                f"Alias {alias!r} is not allowed: use letters, digits, '-' or '_', not starting "
                "with a digit, and not 'latest' or v<number> (those name versions)."
            )


def register_model(
    model: Any,
    name: str,
    aliases: list[str] | tuple[str, ...] = (),
    run_id: str | None = None,
    input_example: Any = None,
    tags: dict[str, str] | None = None,
    requirements: list[str] | tuple[str, ...] = (),
) -> RegisteredVersion:
    """Register ``model`` (a fitted object, or a ``runs:/`` / ``models:/`` URI) as a new version.

    An object is logged to ``run_id``, else to the active run, else to this kernel's last run,
    else to a new run; the
    signature is inferred from ``input_example`` when given. Each alias then points at the version.
    ``requirements`` names more distributions to pin (e.g. ``flaml``, ``lightgbm``).

    Example:
        >>> from sklearn.linear_model import LogisticRegression
        >>> from sklearn.datasets import load_iris
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = LogisticRegression(max_iter=500).fit(X, y)
        >>> version = register_model(clf, "iris", aliases=["champion"])  # doctest: +SKIP
        >>> load_model("iris@champion").predict(X[:2])  # doctest: +SKIP
        array([0, 0])
    """
    if not name or not name.strip():
        raise ModelError("A model needs a name: --name NAME")
    check_quotable(name, "model name")
    aliases = list(aliases)
    _check_aliases(aliases)
    session = get_session()
    session.workspace  # noqa: B018 - opens the store and points MLflow at it
    client = session.client()
    started = time.perf_counter()
    notes: list[str] = []
    try:
        if isinstance(model, str):
            if not model.startswith(("runs:/", "models:/")):
                raise ModelError(
                    f"{model!r} is neither a variable holding a model nor a runs:/ or models:/ URI"
                )
            version = mlflow.register_model(model, name, tags=tags)
            source_run, flavor, model_uri = version.run_id or "", "uri", model
        else:
            source_run = _target_run(session, run_id, name)
            if _has_integer_columns(input_example):
                notes.append(INTEGER_COLUMNS_NOTE)
            info, flavor = _log(model, source_run, input_example, requirements, name)
            version = client.get_model_version(name, str(info.registered_model_version))
            model_uri = info.model_uri
        for key, value in (tags or {}).items():
            client.set_model_version_tag(name, version.version, key, value)
        for alias in aliases:
            client.set_registered_model_alias(name, alias, version.version)
    except MlflowException as exc:
        raise ModelError(f"Cannot register {name!r}: {exc.message}") from None
    return RegisteredVersion(
        name=name,
        version=str(version.version),
        aliases=aliases,
        run_id=source_run,
        model_uri=model_uri,
        flavor=flavor,
        seconds=time.perf_counter() - started,
        tags=dict(tags or {}),
        notes=notes,
    )


def _log(
    model: Any,
    run_id: str,
    input_example: Any,
    requirements: list[str] | tuple[str, ...],
    registered_name: str | None = None,
) -> tuple[Any, str]:
    """Log ``model`` as the ``model`` artifact of ``run_id``: its ModelInfo and flavor name."""
    flavor_module, save_args, pins = _flavor_for(model)
    extra = [pin for pin in environment.pinned(*requirements) if pin not in pins]
    with _plain_mlflow():
        info = _log_with(
            flavor_module, save_args, pins + extra, run_id, input_example, registered_name
        )
    return info, flavor_module.__name__.rsplit(".", 1)[-1]


def _log_with(
    flavor_module: Any,
    save_args: dict[str, Any],
    pins: list[str],
    run_id: str,
    input_example: Any,
    registered_name: str | None,
) -> Any:
    return mlflow.models.Model.log(
        None,  # artifact_path: deprecated in favour of name
        name=MODEL_ARTIFACT,
        flavor=flavor_module,
        run_id=run_id,
        pip_requirements=pins,
        input_example=input_example,
        registered_model_name=registered_name,
        **save_args,
    )


def log_model(
    model: Any,
    run_id: str,
    input_example: Any = None,
    requirements: list[str] | tuple[str, ...] = (),
) -> str:
    """Log a fitted model to run ``run_id`` as `register_model` does, without registering it;
    returns its ``models:/`` URI, which `register_model` accepts later."""
    try:
        info, _ = _log(model, run_id, input_example, requirements)
    except MlflowException as exc:
        raise ModelError(f"Cannot log the model to run {run_id}: {exc.message}") from None
    return info.model_uri


def model_uri(reference: str) -> str:
    """``NAME@ALIAS``, ``NAME/VERSION``, ``NAME`` (latest) or a URI, as a ``models:/`` URI."""
    if "://" in reference or reference.startswith(("runs:/", "models:/")):
        return reference
    if "@" in reference:
        name, alias = reference.split("@", 1)
        return f"models:/{name}@{alias}"
    if "/" in reference:
        name, version = reference.rsplit("/", 1)
        return f"models:/{name}/{version}"
    return f"models:/{reference}/latest"


def check_reference(session: Session, reference: str) -> None:
    """Fail with a helpful line (existing versions, aliases) if the reference names nothing."""
    if "://" in reference or reference.startswith(("runs:/", "models:/")):
        return
    client = session.client()
    name = re.split(r"[@/]", reference, maxsplit=1)[0]
    try:
        registered = client.get_registered_model(name)
    except MlflowException:
        known = [m.name for m in client.search_registered_models(max_results=50)]
        hint = f" Registered models: {', '.join(known)}." if known else " None is registered yet."
        raise ModelError(f"No registered model named {name!r}.{hint}") from None
    aliases = registered.aliases or {}
    if "@" in reference:
        alias = reference.split("@", 1)[1]
        if alias not in aliases:
            have = ", ".join(f"@{a} -> v{v}" for a, v in sorted(aliases.items())) or "none"
            raise ModelError(f"Model {name!r} has no alias {alias!r} (aliases: {have}).")
    elif "/" in reference:
        version = reference.rsplit("/", 1)[1]
        try:
            client.get_model_version(name, version)
        except MlflowException:
            raise ModelError(f"Model {name!r} has no version {version!r}.") from None


def load_model(reference: str) -> Any:
    """Load a registered model as its native object (a scikit-learn estimator, for instance).

    ``reference`` is ``NAME@ALIAS``, ``NAME/VERSION``, ``NAME`` (latest version) or any MLflow
    model URI. Models without a native flavor nbstudio knows come back as MLflow pyfunc models.
    """
    session = get_session()
    session.workspace  # noqa: B018
    check_reference(session, reference)
    uri = model_uri(reference)
    try:
        flavors = mlflow.models.get_model_info(uri).flavors
        if "sklearn" in flavors:
            from mlflow import sklearn as mlflow_sklearn

            return mlflow_sklearn.load_model(uri)
        return mlflow.pyfunc.load_model(uri)
    except MlflowException as exc:
        raise ModelError(f"Cannot load {reference!r}: {exc.message}") from None


def list_models(name: str | None = None) -> pd.DataFrame:
    """Registered models (or the versions of ``name``): version, aliases, source run, status."""
    session = get_session()
    session.workspace  # noqa: B018
    client = session.client()
    try:
        if name:
            check_reference(session, name)
            models = [client.get_registered_model(name)]
        else:
            models = list(client.search_registered_models(max_results=1000))
        rows = []
        for registered in models:
            by_version: dict[str, list[str]] = {}
            for alias, version in (registered.aliases or {}).items():
                by_version.setdefault(str(version), []).append(alias)
            versions = client.search_model_versions(equals("name", registered.name))
            for version in sorted(versions, key=lambda v: -int(v.version)):
                rows.append(
                    {
                        "name": registered.name,
                        "version": int(version.version),
                        "aliases": ", ".join(sorted(by_version.get(str(version.version), []))),
                        "run_id": version.run_id,
                        "status": version.status,
                        "created": pd.to_datetime(version.creation_timestamp, unit="ms"),
                    }
                )
    except MlflowException as exc:
        raise ModelError(f"Cannot list models: {exc.message}") from None
    columns = ["name", "version", "aliases", "run_id", "status", "created"]
    return pd.DataFrame(rows, columns=columns)
