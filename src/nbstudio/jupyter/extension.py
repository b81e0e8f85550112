"""``%load_ext nbstudio``: construct and register the magics, nothing else.

Each feature keeps its magics in a module of its own; adding one is adding its class to `MAGICS`.
Those modules import the core lazily, inside the magic bodies, so loading the extension stays fast;
the first cell's one-time costs (MLflow, the store, plotly) are paid by a background warm-up.
"""

from __future__ import annotations

import importlib
from typing import Any

# (module, class) of every Magics class nbstudio registers.
MAGICS: list[tuple[str, str]] = [
    ("nbstudio.jupyter.run_magics", "RunMagics"),
    ("nbstudio.jupyter.model_magics", "ModelMagics"),
    ("nbstudio.jupyter.monitor_magics", "MonitorMagics"),
    ("nbstudio.jupyter.compute_magics", "ComputeMagics"),
    ("nbstudio.jupyter.endpoint_magics", "EndpointMagics"),
    ("nbstudio.jupyter.data_magics", "DataMagics"),
    ("nbstudio.jupyter.automl_magics", "AutoMLMagics"),
    ("nbstudio.jupyter.pipeline_magics", "PipelineMagics"),
    ("nbstudio.jupyter.drift_magics", "DriftMagics"),
    ("nbstudio.jupyter.batch_magics", "BatchMagics"),
]


def load_ipython_extension(ipython: Any) -> None:
    from nbstudio.errors import WorkspaceError
    from nbstudio.workspace import export_tracking_uri, resolve

    try:
        export_tracking_uri(resolve())
    except WorkspaceError as exc:  # a broken nbstudio.toml: the magics will say so when used
        ipython.log.warning("nbstudio: %s", exc)
    for module, name in MAGICS:
        ipython.register_magics(getattr(importlib.import_module(module), name))
    from nbstudio.jupyter import cell_info, warmup

    cell_info.register(ipython)
    warmup.start()
