"""Pipelines of components: Azure ML's ``@dsl.pipeline`` in a notebook, recorded as MLflow runs.

``@component`` functions are plain functions outside a pipeline; inside ``@pipeline`` their calls
build a graph. ``run()`` executes it (threads or a Dask target), reusing every step whose cache
key (code, helpers, constants, packages, inputs, Python) matches a finished run whose outputs
still exist. See README "Pipelines" and notebooks/06-pipelines.ipynb.
"""

from __future__ import annotations

from typing import Any

from nbstudio.pipelines.errors import PipelineError, StepFailed

__all__ = [
    "Outputs",
    "Pipeline",
    "PipelineError",
    "StepFailed",
    "component",
    "notebook_step",
    "pipeline",
]

_LAZY = {
    "component": ("nbstudio.pipelines.component", "component"),
    "Component": ("nbstudio.pipelines.component", "Component"),
    "Outputs": ("nbstudio.pipelines.component", "Outputs"),
    "pipeline": ("nbstudio.pipelines.pipeline", "pipeline"),
    "Pipeline": ("nbstudio.pipelines.pipeline", "Pipeline"),
    "notebook_step": ("nbstudio.pipelines.notebook_step", "notebook_step"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'nbstudio.pipelines' has no attribute {name!r}")
