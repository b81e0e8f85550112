"""The end of a batch job: judge the failures, write ``error.txt``, ``predictions.csv`` and the
output data asset version, and say how the run ends."""

from __future__ import annotations

from typing import Any

TAG = "nbstudio.batch"
ERROR_FILE = "error.txt"
PREDICTIONS_FILE = "predictions.csv"


def _error_text(failed: dict[int, str], total: int, threshold: int, fatal: bool) -> str:
    verdict = (
        f"{len(failed)} of {total} partitions failed, more than --error-threshold {threshold}: "
        "the job FAILED and made no output."
        if fatal
        else f"{len(failed)} of {total} partitions failed (--error-threshold {threshold}); "
        "their rows are missing from the output."
    )
    return verdict + "\n" + "".join(f"{line}\n" for _, line in sorted(failed.items()))


def _predictions_csv(plan: Any) -> None:
    """Azure's ``append_row`` file: every scored row, partition by partition, in input order."""
    import fsspec
    import pandas as pd

    from nbstudio.batch.scoring import output_name

    fs, root = fsspec.core.url_to_fs(plan.output_url)
    root = root.rstrip("/")
    frames = []
    for part in plan.parts:
        for rel in part.relpaths:
            path = f"{root}/{output_name(rel)}"
            if fs.exists(path):
                with fs.open(path, "rb") as fh:
                    frames.append(pd.read_parquet(fh))
    if frames:
        with fs.open(f"{root}/{PREDICTIONS_FILE}", "w") as fh:
            pd.concat(frames, ignore_index=True).to_csv(fh, index=False)


def finish(plan: Any, run_id: str, failed: dict[int, str]) -> str:
    """Record the outcome on the job's (active) run; returns the run's end status."""
    import mlflow

    from nbstudio import data

    spec = plan.spec
    total = len(plan.parts)
    mlflow.log_metric("partitions_failed", len(failed))
    fatal = spec.error_threshold >= 0 and len(failed) > spec.error_threshold
    if failed:
        names = ", ".join(str(i) for i in sorted(failed))
        mlflow.set_tag(f"{TAG}.failed_partitions", names[:5000])
        mlflow.log_text(_error_text(failed, total, spec.error_threshold, fatal), ERROR_FILE)
    if fatal:
        first = next(iter(sorted(failed.items())))[1]
        mlflow.set_tag(
            f"{TAG}.error",
            f"{len(failed)} of {total} partitions failed (partitions {names[:200]}); "
            f"first: {first}"[:1000],
        )
        return "FAILED"
    if spec.output_action == "append_row":
        _predictions_csv(plan)
    version = data.create(
        plan.output,
        plan.output_uri,
        type="uri_folder",
        tags={"batch_job": run_id, "model": f"{plan.model_name}/{plan.model_version}"},
        description=f"Scored {plan.asset.reference} with {plan.model_name}/{plan.model_version}",
    )
    mlflow.set_tag(f"{TAG}.output", version.reference)
    return "FINISHED"
