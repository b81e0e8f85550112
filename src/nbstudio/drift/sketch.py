"""A bounded summary of a reference table, enough to compare any later data against it.

Comparing 100k rows against 100k rows means sorting and binning the reference every time; the
reference (a model's training data) rarely changes, so its summary is computed once per data-asset
version and kept as a JSON artifact of that version's record run (``drift/sketch-<key>.json``,
readable with any JSON tool or ``mlflow.artifacts.load_dict``). Per feature it holds:

- numeric: count, mean, std, min, max, the PSI bin edges (reference quantiles) with the reference's
  count per bin, and a sorted sample of at most `SAMPLE_SIZE` values taken at evenly spaced ranks
  (the reference's quantile function, used for KS, Wasserstein and the shared histogram of
  Jensen-Shannon);
- categorical: the count of each category (the `MAX_CATEGORIES` most frequent; the rest as one
  ``__other__``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from nbstudio.drift.errors import DriftError

SAMPLE_SIZE = 2000
PSI_BINS = 10
MAX_CATEGORIES = 200
OTHER = "__other__"
SKETCH_VERSION = 1
NUMERIC, CATEGORICAL = "numeric", "categorical"


@dataclass
class FeatureSketch:
    """The summary of one reference column (see the module docstring)."""

    name: str
    kind: str
    count: int
    missing: int = 0
    mean: float = 0.0
    std: float = 0.0
    min: float = 0.0
    max: float = 0.0
    edges: list[float] = field(default_factory=list)  # inner PSI edges (outer bins are open)
    bin_counts: list[int] = field(default_factory=list)
    sample: list[float] = field(default_factory=list)
    categories: dict[str, int] = field(default_factory=dict)


def is_numeric(series: pd.Series) -> bool:
    """Numbers (not booleans) are compared as distributions; anything else by category."""
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def numeric_values(series: pd.Series, where: str) -> np.ndarray:
    """The column's finite values as float64 (NaN and +-inf left out)."""
    try:
        values = series.to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError):
        raise DriftError(f"Column {series.name!r} of the {where} data is not numeric.") from None
    return values[np.isfinite(values)]


def quantile_sample(ordered: np.ndarray) -> np.ndarray:
    """At most `SAMPLE_SIZE` values of a sorted array at evenly spaced ranks: its quantile
    function, on which KS and Wasserstein differ from the full arrays' by about 1/SAMPLE_SIZE."""
    ranks = np.linspace(0, ordered.size - 1, min(SAMPLE_SIZE, ordered.size)).round().astype(int)
    return ordered[ranks]


def category_counts(series: pd.Series) -> dict[str, int]:
    counts = series.dropna().astype(str).value_counts()
    return {str(k): int(v) for k, v in counts.items()}


def _sketch_numeric(name: str, series: pd.Series) -> FeatureSketch:
    values = numeric_values(series, "reference")
    if values.size == 0:
        raise DriftError(f"Feature {name!r} has no finite value in the reference data.")
    values.sort()
    edges = np.unique(np.quantile(values, np.linspace(0, 1, PSI_BINS + 1)[1:-1]))
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=edges.size + 1)
    return FeatureSketch(
        name=name,
        kind=NUMERIC,
        count=int(values.size),
        missing=int(len(series) - values.size),
        mean=float(values.mean()),
        std=float(values.std()),
        min=float(values[0]),
        max=float(values[-1]),
        edges=edges.tolist(),
        bin_counts=counts.tolist(),
        sample=quantile_sample(values).tolist(),
    )


def _sketch_categorical(name: str, series: pd.Series) -> FeatureSketch:
    counts = category_counts(series)
    if not counts:
        raise DriftError(f"Feature {name!r} has no value in the reference data.")
    kept = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_CATEGORIES])
    rest = sum(counts.values()) - sum(kept.values())
    if rest:
        kept[OTHER] = kept.get(OTHER, 0) + rest
    total = sum(counts.values())
    return FeatureSketch(
        name=name, kind=CATEGORICAL, count=total, missing=int(len(series) - total), categories=kept
    )


@dataclass
class Sketch:
    """The summaries of every feature of one reference, in column order."""

    features: dict[str, FeatureSketch]
    rows: int
    version: int = SKETCH_VERSION

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": self.version,
                "rows": self.rows,
                "features": [vars(f) for f in self.features.values()],
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Sketch:
        data = json.loads(text)
        features = [FeatureSketch(**f) for f in data["features"]]
        return cls({f.name: f for f in features}, int(data["rows"]), int(data["version"]))


def build(frame: pd.DataFrame, features: list[str]) -> Sketch:
    """The sketch of ``features`` of ``frame`` (the reference)."""
    if len(frame) == 0:
        raise DriftError("The reference data has no rows.")
    out = {}
    for name in features:
        series = frame[name]
        out[name] = (
            _sketch_numeric(name, series)
            if is_numeric(series)
            else _sketch_categorical(name, series)
        )
    return Sketch(out, len(frame))


def cache_key(features: list[str]) -> str:
    """The artifact name of the sketch of these features (another set is another sketch)."""
    text = json.dumps([SKETCH_VERSION, SAMPLE_SIZE, PSI_BINS, MAX_CATEGORIES, features])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def artifact_path(features: list[str]) -> str:
    return f"drift/sketch-{cache_key(features)}.json"


def load_cached(client: Any, record_run: str, features: list[str]) -> Sketch | None:
    """The sketch cached on a data version's record run, or None if there is none yet."""

    import mlflow

    from nbstudio.tracking.downloads import without_progress_bar

    try:
        with without_progress_bar():  # no download bar in the cell's output
            text = mlflow.artifacts.load_text(f"runs:/{record_run}/{artifact_path(features)}")
    except Exception:  # not cached yet (MLflow raises various errors for a missing artifact)
        return None
    try:
        return Sketch.from_json(text)
    except (ValueError, KeyError, TypeError):
        return None  # damaged: computed again and rewritten


def save(client: Any, record_run: str, features: list[str], sketch: Sketch) -> None:
    """Cache the sketch as an artifact of the data version's record run."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="nbstudio-sketch-") as tmp:
        local = Path(tmp) / artifact_path(features).rsplit("/", 1)[-1]
        local.write_text(sketch.to_json(), encoding="utf-8")
        client.log_artifact(record_run, str(local), "drift")
