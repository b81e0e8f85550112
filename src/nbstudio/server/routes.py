"""The URL table of the REST API. Add a feature's route with one line in `ROUTES`.

Patterns are relative to ``<base_url>nbstudio/api/``; run ids never contain ``/``, metric keys and
artifact paths may (tornado URL-decodes the captured groups).
"""

from __future__ import annotations

from typing import Any

from jupyter_server.utils import url_path_join

from nbstudio.server import handlers as h
from nbstudio.server import run_action_handlers as ra

API_PREFIX = "nbstudio/api"

ROUTES: list[tuple[str, type[h.NbstudioHandler]]] = [
    (r"workspace", h.WorkspaceHandler),
    (r"experiments", h.ExperimentsHandler),
    (r"runs", h.RunsHandler),
    (r"runs/(?P<run_id>[^/]+)", h.RunHandler),
    (r"runs/(?P<run_id>[^/]+)/metrics/(?P<key>.+)", h.MetricHistoryHandler),
    (r"runs/(?P<run_id>[^/]+)/artifacts/(?P<path>.+)", h.ArtifactHandler),
    (r"models", h.ModelsHandler),
    (r"compute", h.ComputeHandler),
    (r"compute/(?P<name>[^/]+)/(?P<action>[^/]+)", h.ComputeActionHandler),
    (r"sweeps", h.SweepsHandler),
    (r"endpoints", h.EndpointsHandler),
    (r"batch", h.BatchEndpointsHandler),
    (r"data", h.DataAssetsHandler),
    (r"data/(?P<name>[^/]+)", h.DataVersionsHandler),
    (r"data/(?P<name>[^/]+)/versions/(?P<version>[^/]+)", h.DataVersionHandler),
    (r"runs/(?P<run_id>[^/]+)/data", h.RunDataHandler),
    (r"datastores", h.DatastoresHandler),
    (r"pipelines", h.PipelinesHandler),
    (r"pipelines/(?P<run_id>[^/]+)", h.PipelineHandler),
    (r"openapi\.json", h.OpenApiHandler),
    (r"runs/(?P<run_id>[^/]+)/state", h.RunStateHandler),
    (r"runs/(?P<run_id>[^/]+)/models", h.RunModelsHandler),
    (r"runs/(?P<run_id>[^/]+)/models/(?P<model_id>[^/]+)/register", h.RegisterRunModelHandler),
    (r"runs/(?P<run_id>[^/]+)/meta", ra.RunMetaHandler),
    (r"runs/(?P<run_id>[^/]+)/delete", ra.RunDeleteHandler),
    (r"runs/(?P<run_id>[^/]+)/restore", ra.RunRestoreHandler),
    (r"runs/(?P<run_id>[^/]+)/trials", ra.RunTrialsHandler),
    (r"experiments/(?P<experiment_id>[^/]+)/deleted-runs", ra.DeletedRunsHandler),
]


def setup_route_handlers(web_app: Any) -> None:
    """Register every route of `ROUTES` on the server's tornado application."""
    base_url = web_app.settings["base_url"]
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base_url, API_PREFIX, pattern) + "/?$", handler)
            for pattern, handler in ROUTES
        ],
    )
