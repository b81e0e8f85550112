"""Step outputs as artifacts of the step run: ``outputs/<name>.parquet`` for DataFrames, ``.json``
for plain values, ``.pkl`` (cloudpickle) otherwise. Steps pass each other `OutputRef`s, never the
objects, so a step on any worker reads its inputs from the store (a Dask future would pin both
branches to the worker holding it)."""

from __future__ import annotations

import hashlib
import json
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cloudpickle
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

FOLDER = "outputs"
_JSON_TYPES = (type(None), bool, int, float, str, list, dict)


@dataclass(frozen=True)
class OutputRef:
    """An output of a step run: the artifact ``path`` under ``artifact_uri``.

    ``label`` names it for lineage (``split.train``); ``model_id`` is the MLflow logged model it
    was recorded as, when it is a model (see pipelines.lineage).
    """

    run_id: str
    artifact_uri: str
    path: str
    digest: str
    label: str = ""
    model_id: str | None = None

    def load(self) -> Any:
        """Read the output back (downloads it from the run's artifact store)."""
        return with_artifact(self.artifact_uri, self.path, read)

    def to_json(self) -> dict[str, str]:
        return {"run_id": self.run_id, "path": self.path, "digest": self.digest}


def with_artifact(artifact_uri: str, path: str, reader: Any) -> Any:
    """``reader(local path)`` of one artifact: read in place from a local store, else downloaded
    to a temporary folder (without MLflow's progress bar, which would be a widget per read)."""
    local = _local_path(artifact_uri)
    if local is not None:
        return reader(local / path)
    from nbstudio.tracking.downloads import without_progress_bar

    with (
        without_progress_bar(),
        tempfile.TemporaryDirectory(prefix="nbstudio-artifact-") as tmp,
    ):
        found = get_artifact_repository(artifact_uri).download_artifacts(path, tmp)
        return reader(Path(found))


def _local_path(artifact_uri: str) -> Path | None:
    from mlflow.utils.file_utils import local_file_uri_to_path
    from mlflow.utils.uri import is_local_uri

    if not is_local_uri(artifact_uri, is_tracking_or_registry_uri=False):
        return None
    return Path(local_file_uri_to_path(artifact_uri))


def _is_json(value: Any) -> bool:
    if not isinstance(value, _JSON_TYPES):
        return False
    try:
        return json.loads(json.dumps(value, allow_nan=False)) == value
    except (TypeError, ValueError):
        return False


def write(folder: Path, name: str, value: Any) -> Path:
    """Write ``value`` as ``folder/<name>.<ext>``, the format chosen by its type."""
    import pandas as pd

    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(value, pd.DataFrame) and all(isinstance(c, str) for c in value.columns):
        path = folder / f"{name}.parquet"
        try:
            value.to_parquet(path)
            return path
        except (ValueError, TypeError, ImportError):
            path.unlink(missing_ok=True)  # types parquet cannot hold: pickled below
    if _is_json(value):
        path = folder / f"{name}.json"
        path.write_text(json.dumps(value), encoding="utf-8")
        return path
    path = folder / f"{name}.pkl"
    path.write_bytes(cloudpickle.dumps(value))
    return path


def read(path: Path) -> Any:
    if path.suffix == ".parquet":
        import pandas as pd

        return pd.read_parquet(path)
    if path.suffix == ".json":
        return json.loads(path.read_text(encoding="utf-8"))
    with path.open("rb") as fh:
        return pickle.load(fh)


def file_digest(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def save_all(values: dict[str, Any], artifact_uri: str, run_id: str) -> dict[str, OutputRef]:
    """Write every output of a step and log them as the run's ``outputs/`` artifacts."""
    refs = {}
    with tempfile.TemporaryDirectory(prefix="nbstudio-output-") as tmp:
        folder = Path(tmp, FOLDER)
        for name, value in values.items():
            path = write(folder, name, value)
            refs[name] = OutputRef(run_id, artifact_uri, f"{FOLDER}/{path.name}", file_digest(path))
        get_artifact_repository(artifact_uri).log_artifacts(str(folder), FOLDER)
    return refs


def existing(artifact_uri: str, names: tuple[str, ...]) -> dict[str, str] | None:
    """Output name -> artifact path, if the run still has every output; else None."""
    try:
        listed = get_artifact_repository(artifact_uri).list_artifacts(FOLDER)
    except Exception:  # a store that cannot be listed has no usable outputs
        return None
    by_stem = {Path(f.path).stem: f.path for f in listed if not f.is_dir}
    if not all(n in by_stem for n in names):
        return None
    return {n: by_stem[n] for n in names}
