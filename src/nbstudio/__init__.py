"""nbstudio: the Azure Machine Learning workspace experience inside JupyterLab, built on MLflow.

``%load_ext nbstudio`` registers the magics. Importing this package is cheap: MLflow and the rest of
the core load on first use, so that loading the extension never slows a kernel down.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

# Public names, resolved lazily: name -> (module, attribute).
_LAZY = {
    "load_model": ("nbstudio.models.registry", "load_model"),
    "register_model": ("nbstudio.models.registry", "register_model"),
    "list_models": ("nbstudio.models.registry", "list_models"),
    "list_runs": ("nbstudio.tracking.queries", "list_runs"),
    "monitor": ("nbstudio.jupyter.widgets.live", "monitor"),
    "RunSpec": ("nbstudio.tracking.run", "RunSpec"),
    "TrackedRun": ("nbstudio.tracking.run", "TrackedRun"),
    "get_session": ("nbstudio.session", "get_session"),
    "sweep": ("nbstudio.sweep.launch", "sweep"),  # the package nbstudio.sweep is callable too
    "get_sweep": ("nbstudio.sweep.results", "get_sweep"),
    "automl": ("nbstudio.automl.api", "automl"),  # the package nbstudio.automl is callable too
    "evaluate": ("nbstudio.evaluation.api", "evaluate"),
    "component": ("nbstudio.pipelines.component", "component"),
    "Outputs": ("nbstudio.pipelines.component", "Outputs"),
    "pipeline": ("nbstudio.pipelines.pipeline", "pipeline"),
    "notebook_step": ("nbstudio.pipelines.notebook_step", "notebook_step"),
    "drift": ("nbstudio.drift.api", "drift"),
}

# Subpackages reachable as attributes after a bare ``import nbstudio``: nbstudio.endpoints.invoke.
_SUBPACKAGES = {"batch", "compute", "data", "drift", "endpoints", "pipelines"}

__all__ = ["__version__", "load_ipython_extension", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    if name in _SUBPACKAGES:
        import importlib

        return importlib.import_module(f"nbstudio.{name}")
    raise AttributeError(f"module 'nbstudio' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """Register nbstudio's magics (``%load_ext nbstudio``)."""
    from nbstudio.jupyter.extension import load_ipython_extension as load

    load(ipython)


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "nbstudio.server"}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "nbstudio"}]
