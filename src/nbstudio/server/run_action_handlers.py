"""Handlers of the run actions (rename, describe, tag, delete, restore) and the trials page.

Mutating routes are POST/PATCH: jupyter_server checks their XSRF cookie (or token), as for the
compute actions. Bodies are validated by their schema (`nbstudio.server.schemas`) before the
core function (`nbstudio.tracking.run_actions`) runs; what the core refuses is a 400, an unknown
run a 404.
"""

from __future__ import annotations

import tornado.web

from nbstudio.server.handlers import NbstudioHandler
from nbstudio.server.schemas import RUN_ACTION_BODY, RUN_EDIT_BODY


class RunMetaHandler(NbstudioHandler):
    """``GET``: the run's name, lifecycle stage, description and tags; ``PATCH``: edit them."""

    @tornado.web.authenticated
    async def get(self, run_id: str) -> None:
        await self.answer("nbstudio.tracking.run_actions:run_meta", run_id)

    @tornado.web.authenticated
    async def patch(self, run_id: str) -> None:
        body = self.json_body(RUN_EDIT_BODY)
        await self.answer(
            "nbstudio.tracking.run_actions:edit_run",
            run_id,
            name=body.get("name"),
            description=body.get("description"),
            set_tags=body.get("set_tags"),
            delete_tags=body.get("delete_tags", []),
        )


class RunDeleteHandler(NbstudioHandler):
    """``POST runs/<id>/delete``: MLflow's soft delete (`RunRestoreHandler` undoes it)."""

    function = "delete_run"

    @tornado.web.authenticated
    async def post(self, run_id: str) -> None:
        self.json_body(RUN_ACTION_BODY)
        await self.answer(f"nbstudio.tracking.run_actions:{self.function}", run_id)


class RunRestoreHandler(RunDeleteHandler):
    """``POST runs/<id>/restore``: a deleted run back among the active ones."""

    function = "restore_run"


class DeletedRunsHandler(NbstudioHandler):
    """``GET experiments/<id>/deleted-runs``: what MLflow's "Deleted" view lists."""

    @tornado.web.authenticated
    async def get(self, experiment_id: str) -> None:
        await self.answer("nbstudio.tracking.run_actions:deleted_runs", experiment_id)


class RunTrialsHandler(NbstudioHandler):
    """``GET runs/<id>/trials``: a sweep's or AutoML job's trials (404 for other runs)."""

    @tornado.web.authenticated
    async def get(self, run_id: str) -> None:
        await self.answer("nbstudio.tracking.trials:run_trials", run_id)
