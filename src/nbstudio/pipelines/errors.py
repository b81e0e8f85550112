"""The errors of pipelines: one line for the user, never a traceback from inside nbstudio."""

from __future__ import annotations

from nbstudio.errors import NbstudioError, NotFoundError


class PipelineError(NbstudioError):
    """A pipeline cannot be built, run, resumed or compared."""


class PipelineNotFound(PipelineError, NotFoundError):
    """No pipeline run with that id in this workspace (HTTP 404)."""


class StepFailed(PipelineError):
    """A step failed (after its retries): the pipeline ends FAILED naming it."""

    def __init__(self, step: str, run_id: str | None, error: str | None) -> None:
        super().__init__(f"step {step!r} failed (run {run_id}): {error or 'no error recorded'}")
        self.step = step
        self.run_id = run_id
        self.error = error
