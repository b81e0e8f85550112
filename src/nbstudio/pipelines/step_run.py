"""One attempt of one step: a child run around the component's body, like a sweep's trial.

`run_step` is a module-level function over plain data (`StepTask` in, `StepOutcome` out), so an
executor runs it in a thread of the kernel or ships it to a Dask worker: the inputs arrive as
`OutputRef`s and are read from the store there, the outputs are written to the store there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import mlflow

from nbstudio.pipelines import lineage, outputs
from nbstudio.pipelines.keys import canonical_json
from nbstudio.pipelines.outputs import OutputRef
from nbstudio.pipelines.recording import RECIPE_FILE
from nbstudio.tracking import RunSpec, RunTerminated, TrackedRun


@dataclass
class StepTask:
    """Everything one attempt needs; ``arguments`` hold `OutputRef`s where upstream outputs go."""

    step: str
    component: Any
    arguments: dict[str, Any]
    parent_run_id: str
    experiment: str
    tags: dict[str, str]
    params: dict[str, Any]
    recipe: dict[str, Any]


@dataclass
class StepOutcome:
    step: str
    run_id: str | None
    status: str
    error: str | None = None
    outputs: dict[str, OutputRef] = field(default_factory=dict)
    duration: float = 0.0


def _resolve(value: Any) -> Any:
    if isinstance(value, OutputRef):
        return value.load()
    if isinstance(value, list | tuple):
        return type(value)(_resolve(v) for v in value)
    if isinstance(value, dict):
        return {k: _resolve(v) for k, v in value.items()}
    return value


def run_step(task: StepTask) -> StepOutcome:
    """Run one attempt as a child run of the pipeline; its own failure is returned, not raised."""
    tracked = TrackedRun(
        RunSpec(
            name=task.step,
            experiment=task.experiment,
            params=task.params,
            tags=task.tags,
            parent_run_id=task.parent_run_id,
        )
    )
    started = time.monotonic()
    refs: dict[str, OutputRef] = {}
    try:
        with tracked:
            active = mlflow.active_run()
            assert active is not None
            mlflow.log_text(canonical_json(task.recipe), RECIPE_FILE)
            arguments = _resolve(task.arguments)
            lineage.log_inputs(active.info.run_id, task.arguments, arguments)
            values = task.component.run_body(arguments)
            refs = outputs.save_all(values, active.info.artifact_uri, active.info.run_id)
            refs = lineage.log_model_outputs(task.step, values, refs)
    except (KeyboardInterrupt, RunTerminated):
        raise
    except Exception:
        if tracked.result is None:
            raise  # the run could not even start: not the step's own failure
    assert tracked.result is not None
    return StepOutcome(
        step=task.step,
        run_id=tracked.result.run_id,
        status=tracked.result.status,
        error=tracked.result.error,
        outputs=refs if tracked.result.status == "FINISHED" else {},
        duration=time.monotonic() - started,
    )
