"""nbstudio's jupyter_server extension: the REST API under ``/nbstudio/api/`` for the side panel.

Loading it is cheap (no MLflow import): the core loads on the first request, in a worker thread.
The workspace is the one holding the server's root folder (``ServerApp.root_dir``), so that the
panel shows the runs of the notebooks the server serves, wherever the server was started from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from nbstudio.server.routes import setup_route_handlers
    from nbstudio.session import reset_session

    reset_session(Path(serverapp.root_dir))
    setup_route_handlers(serverapp.web_app)
    serverapp.log.info("nbstudio: REST API at %snbstudio/api/", serverapp.base_url)
