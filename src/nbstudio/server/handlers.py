"""Request handlers of the REST API: each validates its input and calls one core function.

Core functions block (SQLite, files, MLflow REST calls), so they run in a worker thread and the
server's event loop stays free for JupyterLab. An `NbstudioError` becomes a JSON ``{"message"}``
answer by its type: 404 for `NotFoundError`, 409 for `ConflictError`, 400 for any other; nothing a
user sends produces a 500.

Core functions return plain lists and records; a list route wraps its list in an object under one
key (``{"targets": [...]}``, see `NbstudioHandler.answer_list`), the same way for every such route,
so the JSON can grow fields beside the list without breaking the panel.
"""

from __future__ import annotations

import asyncio
import importlib
import json
from collections.abc import Callable
from typing import Any

import tornado.web
from jupyter_server.base.handlers import APIHandler

from nbstudio.errors import ConflictError, NbstudioError, NotFoundError
from nbstudio.server.schemas import BODY_SCHEMAS, validate_body


def core(dotted: str) -> Callable[..., Any]:
    """``"package.module:function"`` imported on first use: loading the extension stays cheap."""
    module, name = dotted.split(":")
    return getattr(importlib.import_module(module), name)


# Query parameters any Jupyter API accepts (authentication), whatever the route.
_JUPYTER_QUERY = frozenset({"token", "_xsrf"})


def _cache_buster(name: str, values: list[bytes]) -> bool:
    """JupyterLab's ServerConnection adds ``?<milliseconds>`` (no value) to every GET."""
    return name.isdigit() and not any(values)


class NbstudioHandler(APIHandler):
    """Base handler: runs a core call in a thread and answers its result (or error) as JSON.

    ``query_parameters`` names the query parameters a route takes (as documented in
    openapi.json); any other is a 400, so a typo is never silently ignored.
    """

    query_parameters: frozenset[str] = frozenset()

    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()
        if self.current_user is None:
            return  # @authenticated answers 403 first
        unknown = sorted(
            name
            for name, values in self.request.query_arguments.items()
            if name not in self.query_parameters | _JUPYTER_QUERY
            and not _cache_buster(name, values)
        )
        if unknown:
            takes = ", ".join(sorted(self.query_parameters)) or "none"
            raise tornado.web.HTTPError(
                400, f"Unknown query parameter {unknown[0][:50]!r} (this route takes: {takes})."
            )

    async def answer(self, dotted: str, *args: Any, **kwargs: Any) -> None:
        self.finish(json.dumps(await self.call(dotted, *args, **kwargs), allow_nan=False))

    async def answer_list(self, key: str, dotted: str, *args: Any, **kwargs: Any) -> None:
        """Answer the list a core function returns as ``{key: [...]}``."""
        items = await self.call(dotted, *args, **kwargs)
        self.finish(json.dumps({key: items}, allow_nan=False))

    async def call(self, dotted: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return await asyncio.to_thread(core(dotted), *args, **kwargs)
        except NotFoundError as exc:
            raise tornado.web.HTTPError(404, _one_line(exc)) from None
        except ConflictError as exc:
            raise tornado.web.HTTPError(409, _one_line(exc)) from None
        except NbstudioError as exc:
            raise tornado.web.HTTPError(400, _one_line(exc)) from None

    def int_argument(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.get_query_argument(name, None)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise tornado.web.HTTPError(
                400, f"{name} must be a whole number, not {raw!r}."
            ) from None
        if not low <= value <= high:
            raise tornado.web.HTTPError(
                400, f"{name} must be between {low} and {high}, got {value}."
            )
        return value

    def json_body(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The JSON object of the body (empty: ``{}``), checked against ``schema`` (see
        `nbstudio.server.schemas`): anything else is a 400 before a core function runs."""
        if not self.request.body:
            body: Any = {}
        else:
            try:
                body = json.loads(self.request.body)
            except (ValueError, RecursionError):
                raise tornado.web.HTTPError(400, "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise tornado.web.HTTPError(400, "The request body must be a JSON object.")
        return validate_body(body, schema)


def _one_line(exc: BaseException) -> str:
    # tornado %-formats a log message only when given arguments; keep it one line.
    return " ".join(str(exc).split())


class WorkspaceHandler(NbstudioHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer("nbstudio.tracking.browse:workspace_info")


class ExperimentsHandler(NbstudioHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer("nbstudio.tracking.browse:list_experiments")


class RunsHandler(NbstudioHandler):
    query_parameters = frozenset({"experiment_id", "filter", "order_by", "page_size", "page_token"})

    @tornado.web.authenticated
    async def get(self) -> None:
        experiment_ids = [e for e in self.get_query_arguments("experiment_id") if e]
        page_size = self.int_argument("page_size", 50, 1, 500)
        await self.answer(
            "nbstudio.tracking.browse:search_runs",
            experiment_ids=experiment_ids,
            filter_string=self.get_query_argument("filter", ""),
            order_by=[o for o in self.get_query_arguments("order_by") if o],
            page_size=page_size,
            page_token=self.get_query_argument("page_token", None) or None,
        )


class RunHandler(NbstudioHandler):
    @tornado.web.authenticated
    async def get(self, run_id: str) -> None:
        await self.answer("nbstudio.tracking.browse:get_run", run_id)


class RunStateHandler(NbstudioHandler):
    @tornado.web.authenticated
    async def get(self, run_id: str) -> None:
        await self.answer("nbstudio.tracking.run_state:run_state", run_id)


class RunModelsHandler(NbstudioHandler):
    @tornado.web.authenticated
    async def get(self, run_id: str) -> None:
        await self.answer_list("models", "nbstudio.models.run_models:run_models_json", run_id)


class RegisterRunModelHandler(NbstudioHandler):
    @tornado.web.authenticated
    async def post(self, run_id: str, model_id: str) -> None:
        from nbstudio.server.schemas import REGISTER_MODEL_BODY

        name = self.json_body(REGISTER_MODEL_BODY)["name"]
        if not name.strip():
            raise tornado.web.HTTPError(400, 'Give the registered model a name: {"name": "..."}.')
        await self.answer(
            "nbstudio.models.run_models:register_logged_model", run_id, model_id, name
        )


class MetricHistoryHandler(NbstudioHandler):
    query_parameters = frozenset({"max_points"})

    @tornado.web.authenticated
    async def get(self, run_id: str, key: str) -> None:
        max_points = self.int_argument("max_points", 2000, 10, 10_000)
        await self.answer("nbstudio.tracking.browse:metric_history", run_id, key, max_points)


class ArtifactHandler(NbstudioHandler):
    @tornado.web.authenticated
    async def get(self, run_id: str, path: str) -> None:
        await self.answer("nbstudio.tracking.browse:artifact_preview", run_id, path)


class ModelsHandler(NbstudioHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer_list("models", "nbstudio.models.listing:list_models_json")


class ComputeHandler(NbstudioHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer_list("targets", "nbstudio.compute.api:list_targets")


class ComputeActionHandler(NbstudioHandler):
    @tornado.web.authenticated
    async def post(self, name: str, action: str) -> None:
        schema = BODY_SCHEMAS.get(f"compute.{action}")
        if schema is None:
            actions = ", ".join(
                k.split(".", 1)[1] for k in BODY_SCHEMAS if k.startswith("compute.")
            )
            raise tornado.web.HTTPError(400, f"Unknown action {action!r}: use one of {actions}.")
        body = self.json_body(schema)
        # The body travels as one dict: its keys can never collide with the call's own. Errors
        # map by type: unknown target 404, a state that forbids the action 409, bad input 400.
        await self.answer("nbstudio.compute.commands:act", name, action, body)


class SweepsHandler(NbstudioHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer_list("sweeps", "nbstudio.sweep.api:list_sweeps")


class EndpointsHandler(NbstudioHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer_list("endpoints", "nbstudio.endpoints.api:list_endpoints")


class BatchEndpointsHandler(NbstudioHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer_list("endpoints", "nbstudio.batch.api:list_endpoints")


class DataAssetsHandler(NbstudioHandler):
    query_parameters = frozenset({"q"})

    @tornado.web.authenticated
    async def get(self) -> None:
        query = self.get_query_argument("q", "")
        if len(query) > 200:
            raise tornado.web.HTTPError(400, "q is at most 200 characters.")
        await self.answer_list("assets", "nbstudio.data.catalog:assets_json", query=query)


class DataVersionsHandler(NbstudioHandler):
    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        await self.answer("nbstudio.data.catalog:versions_json", name)


class DataVersionHandler(NbstudioHandler):
    @tornado.web.authenticated
    async def get(self, name: str, version: str) -> None:
        await self.answer("nbstudio.data.catalog:version_json", name, version)


class RunDataHandler(NbstudioHandler):
    @tornado.web.authenticated
    async def get(self, run_id: str) -> None:
        await self.answer("nbstudio.data.catalog:run_data_json", run_id)


class DatastoresHandler(NbstudioHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer_list("datastores", "nbstudio.data.catalog:datastores_json")


class PipelinesHandler(NbstudioHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        runs = await self.call("nbstudio.pipelines.history:list_runs")
        self.finish(json.dumps({"pipelines": runs}, allow_nan=False))


class PipelineHandler(NbstudioHandler):
    @tornado.web.authenticated
    async def get(self, run_id: str) -> None:
        await self.answer("nbstudio.pipelines.history:run_detail", run_id)


class OpenApiHandler(NbstudioHandler):
    """The API's OpenAPI 3 document (the panel's contract; Schemathesis tests against it)."""

    @tornado.web.authenticated
    async def get(self) -> None:
        from nbstudio.server.openapi import openapi_document

        self.finish(json.dumps(openapi_document(self.base_url), allow_nan=False))
