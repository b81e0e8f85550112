"""A registered model reference (``NAME@ALIAS``, ``NAME/VERSION``, ``NAME``) pinned to one version.

Endpoints deploy, batch jobs score with, and drift checks compare against the version a reference
points at *now*, as Azure pins a deployment's model: moving the alias later does not change what
was pinned; using the reference again does. One resolver for all of them, so a reference means the
same thing everywhere and fails with the same helpful line (existing versions, aliases).
"""

from __future__ import annotations

from dataclasses import dataclass

from nbstudio.errors import ModelError


@dataclass(frozen=True)
class ResolvedModel:
    name: str
    version: str
    uri: str  # models:/NAME/VERSION
    source: str  # where the version's artifacts are (loaded without a registry look-up)


def resolve_model(reference: str, use: str = "deploy") -> ResolvedModel:
    """``NAME@ALIAS``, ``NAME/VERSION``, ``NAME`` (latest) or ``models:/...`` to one version;
    ``use`` ("deploy", "score with", "check") is what the one-line errors say it was for."""
    from mlflow.exceptions import MlflowException

    from nbstudio.models.registry import check_reference
    from nbstudio.session import get_session

    ref = reference.strip().removeprefix("models:/")
    if not ref or "://" in ref or ref.startswith("runs:/") or ref.startswith("m-"):
        raise ModelError(
            f"{reference!r}: {use} a registered model as NAME@ALIAS or NAME/VERSION "
            "(register it first with %register_model)."
        )
    session = get_session()
    session.workspace  # noqa: B018 - opens the store
    client = session.client()
    try:
        if "@" in ref:
            name, alias = ref.split("@", 1)
            version = client.get_model_version_by_alias(name, alias)
        elif "/" in ref:
            name, number = ref.rsplit("/", 1)
            version = client.get_model_version(name, number)
        else:
            from nbstudio.tracking.filters import equals  # not at import: %load_ext stays light

            name = ref
            versions = client.search_model_versions(equals("name", name))
            if not versions:
                check_reference(session, ref)
                raise ModelError(f"Model {name!r} has no version to {use}.")
            version = max(versions, key=lambda v: int(v.version))
        source = client.get_model_version_download_uri(name, version.version)
    except MlflowException as exc:
        failure = exc.message
    else:
        return ResolvedModel(
            name, str(version.version), f"models:/{name}/{version.version}", source
        )
    # Looked up directly first (two queries): the helpful line, naming the versions and aliases
    # that do exist, is only worth its queries when the reference names nothing.
    check_reference(session, ref)
    raise ModelError(f"Cannot {use} {reference!r}: {failure}")
