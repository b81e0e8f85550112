"""Data drift: how far current data moved from a model's training data, recorded as an MLflow run.

``nbstudio.drift("wine@champion", current="wine-new@2")`` finds the reference through lineage
(the training input of the run that logged the model version), or takes ``reference="wine@1"``
(or a DataFrame). The current data is an asset version, a DataFrame, an online endpoint's
sampled inputs (``"endpoint:NAME"``) or a batch job's input (`nbstudio.drift.sources`). It
compares each feature (`nbstudio.drift.statistics`: KS, normalized
Wasserstein, Jensen-Shannon, PSI; category frequencies for categorical columns) and flags the
features whose statistics reach their thresholds. The reference's summary is cached per data
version (`nbstudio.drift.sketch`), so a second check against the same training data reads
only the current data.

Each check is a run (tag ``nbstudio.drift=true``) in the default experiment with, per feature,
metrics ``drift/<feature>/<statistic>`` and ``drift/<feature>/drifted`` (0/1), overall metrics
``drift/detected`` (0/1) and ``drift/features_drifted``, tag ``nbstudio.drift.detected`` (what a
schedule's condition can test), tag ``nbstudio.drift.source`` (asset, endpoint, batch or
dataframe: where the current data came from), the data versions as inputs (context
``evaluation``) and the figures as ``evaluation/drift_*.plotly.json`` (drawn by the run view
like any evaluation figure).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from nbstudio.drift import figures as drift_figures
from nbstudio.drift import sketch as sketches
from nbstudio.drift import statistics
from nbstudio.drift.errors import DriftError
from nbstudio.drift.sources import CONTEXT, Data, resolve

TAG = "nbstudio.drift"
# A feature drifted when any statistic reaches its threshold (ks_pvalue: falls below it).
# Normalized Wasserstein 0.1 = a tenth of the reference's standard deviation.
DEFAULT_THRESHOLDS: dict[str, float] = {"psi": 0.2, "jsd": 0.1, "wasserstein": 0.1, "ks": 0.1}


@dataclass
class DriftResult:
    """The outcome of one check: per-feature statistics, the flags, the run that records it."""

    table: pd.DataFrame
    detected: bool
    reference: str
    current: str
    thresholds: dict[str, float]
    run_id: str | None = None
    seconds: float = 0.0
    cached_reference: bool = False
    results: list[statistics.FeatureDrift] = field(default_factory=list, repr=False)
    _figures: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def figures(self) -> dict[str, Any]:
        """The heat map and the worst features' distributions (plotly), drawn on first use."""
        if self._figures is None:
            self._figures = {
                "drift_heatmap": drift_figures.heatmap(self.results, self.thresholds),
                "drift_distributions": drift_figures.distributions(self.results, self.thresholds),
            }
        return self._figures

    @property
    def drifted_features(self) -> list[str]:
        return [str(f) for f in self.table.index[self.table["drifted"]]]

    def __repr__(self) -> str:
        drifted = self.drifted_features
        verdict = (
            f"DRIFT in {len(drifted)} of {len(self.table)} features ({', '.join(drifted[:8])}"
            f"{', ...' if len(drifted) > 8 else ''})"
            if drifted
            else f"no drift in {len(self.table)} features"
        )
        run = f"; run {self.run_id}" if self.run_id else ""
        return (
            f"Drift of {self.current} against {self.reference}: {verdict} "
            f"in {self.seconds:.2f} s{run}"
        )

    def _repr_html_(self) -> str:
        import html

        shown = self.table.copy()
        return f"<p>{html.escape(repr(self))}</p>" + shown.to_html(float_format="{:.4g}".format)


# -- what to compare ---------------------------------------------------------------------------
def _model_version(model: str) -> Any:
    from nbstudio.errors import ModelError
    from nbstudio.models.references import resolve_model
    from nbstudio.session import get_session

    try:
        resolved = resolve_model(model, use="check")
    except ModelError as exc:
        raise DriftError(str(exc)) from None
    return get_session().client().get_model_version(resolved.name, resolved.version)


def training_input(model: str) -> tuple[str, Any]:
    """``NAME@VERSION`` of the data the model was trained on (from lineage) and its version."""
    from nbstudio.data.lineage import TAG_INPUT_VERSION
    from nbstudio.session import get_session

    version = _model_version(model)
    label = f"{version.name}/{version.version}"
    if not version.run_id:
        raise DriftError(f"Model {label} was not logged in a run: pass reference=NAME@VERSION.")
    run = get_session().client().get_run(version.run_id)
    found: list[tuple[int, str]] = []
    for item in run.inputs.dataset_inputs if run.inputs else []:
        tags = {t.key: t.value for t in item.tags}
        number = tags.get(TAG_INPUT_VERSION)
        if number:
            rank = 0 if tags.get("mlflow.data.context") == "training" else 1
            found.append((rank, f"{item.dataset.name}@{number}"))
    if not found:
        raise DriftError(
            f"The run that logged model {label} recorded no data asset as its input: "
            "pass the reference explicitly (reference=NAME@VERSION or --reference)."
        )
    return min(found)[1], version


def _signature_features(version: Any) -> list[str] | None:
    import mlflow

    try:
        signature = mlflow.models.get_model_info(
            f"models:/{version.name}/{version.version}"
        ).signature
    except Exception:  # no MLmodel readable: fall back to the reference's columns
        return None
    if signature is None or not signature.inputs.has_input_names():
        return None
    return list(signature.inputs.input_names())


def _check_features(features: list[str], reference: list[str], current: pd.DataFrame) -> None:
    if not features:
        raise DriftError("No feature to compare: the reference has no columns.")
    for role, have in (("reference", set(reference)), ("current", set(map(str, current.columns)))):
        missing = [f for f in features if f not in have]
        if missing:
            shown = ", ".join(map(repr, missing[:5])) + (", ..." if len(missing) > 5 else "")
            raise DriftError(
                f"The {role} data lacks {len(missing)} feature(s): {shown} "
                "(choose the columns to compare with features=[...] / --features)."
            )
    if len(current) == 0:
        raise DriftError("The current data has no rows.")


def check_thresholds(given: dict[str, float] | None) -> dict[str, float]:
    """The defaults updated with ``given``; unknown statistics and non-numbers refused."""
    thresholds = dict(DEFAULT_THRESHOLDS)
    for key, value in (given or {}).items():
        if key not in statistics.STATISTICS:
            raise DriftError(f"threshold {key!r}: use one of {', '.join(statistics.STATISTICS)}.")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise DriftError(f"threshold {key}={value!r}: give a number.")
        if value < 0:
            raise DriftError(f"threshold {key}={value!r}: give a number >= 0.")
        thresholds[key] = float(value)
    return thresholds


def _reference_sketch(data: Data, features: list[str]) -> tuple[sketches.Sketch, bool]:
    """The reference's sketch: cached on its data version's record run when it is one."""
    from nbstudio.session import get_session

    record = data.asset.record if data.asset is not None else None
    if record is None or not record.record_id:
        return sketches.build(data.to_pandas(), features), False
    client = get_session().client()
    cached = sketches.load_cached(client, record.record_id, features)
    if cached is not None and list(cached.features) == features:
        data.asset.check()  # the version's bytes must still be what was summarised
        return cached, True
    built = sketches.build(data.to_pandas(), features)
    sketches.save(client, record.record_id, features, built)
    return built, False


# -- recording ---------------------------------------------------------------------------------
_UNSAFE = re.compile(r"[^\w\- ]")


def metric_names(features: list[str]) -> dict[str, str]:
    """A metric-key-safe name per feature (MLflow keys: letters, digits, ``_-. /:``; no path
    tricks), unique among the features."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for feature in features:
        base = _UNSAFE.sub("_", feature).strip()[:200] or "_"
        name, n = base, 1
        while name in used:
            n += 1
            name = f"{base}_{n}"
        used.add(name)
        names[feature] = name
    return names


def _record(
    run_id: str, results: list[statistics.FeatureDrift], detected: bool, drawn: dict[str, Any]
) -> None:
    from mlflow.entities import Metric

    from nbstudio.evaluation.api import log_evaluation
    from nbstudio.session import get_session

    client = get_session().client()
    now = int(time.time() * 1000)
    keys = metric_names([r.name for r in results])
    metrics = []
    for r in results:
        prefix = f"drift/{keys[r.name]}/"
        metrics += [Metric(prefix + k, v, now, 0) for k, v in r.stats.items()]
        metrics.append(Metric(prefix + "drifted", float(r.drifted), now, 0))
    for start in range(0, len(metrics), 1000):  # MLflow's batch limit
        client.log_batch(run_id, metrics=metrics[start : start + 1000])
    overall = {
        "detected": float(detected),
        "features_drifted": float(sum(r.drifted for r in results)),
        "share_drifted": sum(r.drifted for r in results) / len(results),
    }
    log_evaluation(run_id, overall, drawn, prefix="drift/")
    client.log_dict(
        run_id,
        {r.name: {"metric_name": keys[r.name], "kind": r.kind, **r.stats} for r in results},
        "drift/features.json",
    )


def _compare(
    reference_data: Data,
    current_data: Data,
    features: list[str] | None,
    thresholds: dict[str, float],
) -> tuple[list[statistics.FeatureDrift], bool]:
    current = current_data.to_pandas()
    ref_columns = reference_data.columns()
    features = features or ref_columns
    _check_features(features, ref_columns, current)
    sketch, cached = _reference_sketch(reference_data, features)
    results = [
        statistics.judge(statistics.compare(sketch.features[f], current[f]), thresholds)
        for f in features
    ]
    return results, cached


def _log_run(
    result: DriftResult,
    results: list[statistics.FeatureDrift],
    data: list[Data],
    model_label: str | None,
    experiment: str | None,
) -> str:
    """Record a finished comparison as a run (in a thread with no active run of its own)."""
    import mlflow

    from nbstudio.data.lineage import record_input
    from nbstudio.session import get_session

    tags = {
        TAG: "true",
        f"{TAG}.reference": result.reference,
        f"{TAG}.current": result.current,
        f"{TAG}.source": data[1].source,
        f"{TAG}.detected": str(result.detected).lower(),
        **({f"{TAG}.model": model_label} if model_label else {}),
    }
    experiment_id = get_session().experiment_id(experiment)
    with mlflow.start_run(
        experiment_id=experiment_id,
        run_name=f"drift {data[1].short or result.current}"[:250],
        tags=tags,
    ) as run:
        for item in data:
            a = item.asset
            if a is not None:
                record_input(a.name, a.digest, a.uri, a.schema(), CONTEXT, a.version)
        mlflow.log_params({f"threshold.{k}": v for k, v in result.thresholds.items()})
        _record(run.info.run_id, results, result.detected, result.figures)
    return run.info.run_id


def _run(
    reference_data: Data,
    current_data: Data,
    features: list[str] | None,
    thresholds: dict[str, float],
    model_label: str | None,
    log: bool,
    experiment: str | None,
) -> DriftResult:
    started = time.perf_counter()
    results, cached = _compare(reference_data, current_data, features, thresholds)
    table = pd.DataFrame(
        [{"feature": r.name, "kind": r.kind, **r.stats, "drifted": r.drifted} for r in results]
    ).set_index("feature")
    result = DriftResult(
        table=table,
        detected=any(r.drifted for r in results),
        reference=reference_data.label,
        current=current_data.label,
        thresholds=thresholds,
        cached_reference=cached,
        results=results,
    )
    if log:
        result.run_id = _log_run(
            result, results, [reference_data, current_data], model_label, experiment
        )
    result.seconds = time.perf_counter() - started
    return result


def drift(
    model: str | None = None,
    current: Any = None,
    *,
    reference: Any = None,
    thresholds: dict[str, float] | None = None,
    features: list[str] | None = None,
    log: bool = True,
    experiment: str | None = None,
    since: Any = None,
) -> DriftResult:
    """Compare ``current`` with ``model``'s training data (or ``reference``); see the module.

    ``current`` (and ``reference``) is a data asset version, a DataFrame, ``"endpoint:NAME"``
    or ``"endpoint:NAME/DEPLOYMENT"`` (the inputs it sampled; ``since="1h"`` keeps the recent
    ones), a batch job or ``"batch:RUN_ID"`` (the version it scored): see `sources`.

    Example:
        >>> result = nbstudio.drift("wine@champion", current="wine-new@2")  # doctest: +SKIP
        >>> result.detected, result.drifted_features  # doctest: +SKIP
        (True, ['alcohol'])
        >>> nbstudio.drift("wine@champion", current="endpoint:wine", since="1h")  # doctest: +SKIP
    """
    from nbstudio.background import in_thread
    from nbstudio.session import get_session

    if current is None:
        raise DriftError(
            "Give the current data: current=NAME@VERSION, endpoint:NAME, batch:RUN_ID "
            "or a DataFrame."
        )
    thresholds = check_thresholds(thresholds)
    if features is not None:
        features = [str(f) for f in features]
        if not features:
            raise DriftError("features=[]: name at least one column.")
    get_session().workspace  # noqa: B018 - opens the store
    model_label = None
    if reference is None:
        if model is None:
            raise DriftError("Give a model (its training data is the reference) or a reference.")
        reference, version = training_input(model)
        model_label = f"{version.name}/{version.version}"
        features = features or _signature_features(version)
    elif model is not None:
        version = _model_version(model)
        model_label = f"{version.name}/{version.version}"
        features = features or _signature_features(version)
    current_data = resolve(current, "current", since)
    reference_data = resolve(reference, "reference")
    return in_thread(
        _run, reference_data, current_data, features, thresholds, model_label, log, experiment
    )
