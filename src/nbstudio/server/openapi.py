"""The OpenAPI 3 document of the REST API, served at ``/nbstudio/api/openapi.json``.

It is the side panel's contract: ``components.schemas`` carry the names of the TypeScript
interfaces of ``labextension/src/api.ts`` (``x-ts-interface``), and a test checks that both list
the same fields. Request bodies come from `nbstudio.server.schemas`, the schemas the handlers
validate with. A new route adds its path here (a test checks every route of `ROUTES` is
described) and its body schema in `schemas`.
"""

from __future__ import annotations

from typing import Any

import nbstudio
from nbstudio.server.schemas import (
    BODY_SCHEMAS,
    REGISTER_MODEL_BODY,
    RUN_ACTION_BODY,
    RUN_EDIT_BODY,
)

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(ts: str, required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict:
    """An answer object: its required fields, then fields that may be missing."""
    return {
        "type": "object",
        "x-ts-interface": ts,
        "required": sorted(required),
        "properties": {**required, **(optional or {})},
    }


STRING = {"type": "string"}
INT = {"type": "integer"}
NUMBER = {"type": "number"}
BOOL = {"type": "boolean"}
TIME = _nullable(INT)  # ms since the epoch

SCHEMAS: dict[str, Any] = {
    "Error": _object(
        "IError", {"message": STRING}, {"reason": _nullable(STRING), "traceback": STRING}
    ),
    "Workspace": _object(
        "IWorkspace",
        {
            "root": STRING,
            "tracking_uri": STRING,
            "artifact_root": STRING,
            "default_experiment": STRING,
            "embedded_store": BOOL,
            "version": STRING,
        },
    ),
    "Experiment": _object(
        "IExperiment",
        {
            "experiment_id": STRING,
            "name": STRING,
            "run_count": INT,
            "last_activity": TIME,
            "lifecycle_stage": STRING,
        },
    ),
    "PrimaryMetric": _object("IPrimaryMetric", {"key": STRING, "value": _nullable(NUMBER)}),
    "RunSummary": _object(
        "IRunSummary",
        {
            "run_id": STRING,
            "run_name": _nullable(STRING),
            "experiment_id": STRING,
            "status": STRING,
            "start_time": TIME,
            "end_time": TIME,
            "duration": _nullable(NUMBER),
            "params": {"type": "object", "additionalProperties": STRING},
            "metrics": {"type": "object", "additionalProperties": _nullable(NUMBER)},
            "parent_run_id": _nullable(STRING),
            "primary_metric": _nullable(_ref("PrimaryMetric")),
        },
    ),
    "RunDetail": {
        "allOf": [
            _ref("RunSummary"),
            _object(
                "IRunDetail",
                {
                    "tags": {"type": "object", "additionalProperties": STRING},
                    "notebook": _nullable(STRING),
                    "source_name": _nullable(STRING),
                },
            ),
        ]
    },
    "ArtifactEntry": _object(
        "IArtifactEntry",
        {"path": STRING, "is_dir": BOOL, "file_size": _nullable(INT)},
        {
            "is_link": {
                "type": "boolean",
                "description": "A link leaving the run's artifact folder: never followed, "
                "so it has no size and no target.",
            }
        },
    ),
    "RunResponse": _object(
        "IRunResponse",
        {
            "run": _ref("RunDetail"),
            "artifacts": {"type": "array", "items": _ref("ArtifactEntry")},
            "children": {"type": "array", "items": _ref("RunSummary")},
        },
    ),
    "RunsPage": _object(
        "IRunsPage",
        {
            "runs": {"type": "array", "items": _ref("RunSummary")},
            "next_page_token": _nullable(STRING),
        },
    ),
    "MetricPoint": _object(
        "IMetricPoint", {"step": INT, "timestamp": INT, "value": _nullable(NUMBER)}
    ),
    "MetricHistory": _object(
        "IMetricHistory",
        {
            "key": STRING,
            "total_points": INT,
            "downsampled": BOOL,
            "points": {"type": "array", "items": _ref("MetricPoint")},
        },
    ),
    "ArtifactPreview": _object(
        "IArtifactPreview",
        {
            "path": STRING,
            "kind": {"enum": ["text", "image", "binary"]},
            "size": INT,
            "truncated": BOOL,
        },
        {"text": STRING, "data_url": STRING},
    ),
    "ModelVersion": _object(
        "IModelVersion",
        {
            "version": STRING,
            "run_id": _nullable(STRING),
            "status": STRING,
            "source": STRING,
            "creation_timestamp": TIME,
            "aliases": {"type": "array", "items": STRING},
        },
    ),
    "RegisteredModel": _object(
        "IRegisteredModel",
        {
            "name": STRING,
            "description": _nullable(STRING),
            "aliases": {"type": "object", "additionalProperties": STRING},
            "versions": {"type": "array", "items": _ref("ModelVersion")},
        },
    ),
    "ComputeTarget": _object(
        "IComputeTarget",
        {"name": STRING, "kind": STRING, "state": STRING},
        {
            key: _nullable(INT)
            for key in (
                "min_nodes",
                "max_nodes",
                "nodes",
                "starting_nodes",
                "busy_nodes",
                "cores",
                "memory",
                "tasks",
                "queued",
            )
        }
        | {
            "reason": _nullable(STRING),
            "address": _nullable(STRING),
            "dashboard_link": _nullable(STRING),
            "actions": {"type": "array", "items": STRING},
        },
    ),
    "Sweep": {
        "type": "object",
        "x-ts-interface": "ISweep",
        "required": ["run_id", "status", "counts"],
        "properties": {
            "run_id": STRING,
            "run_name": _nullable(STRING),
            "experiment_id": STRING,
            "status": STRING,
            "goal": STRING,
            "primary_metric": _nullable(STRING),
            "counts": {"type": "object", "additionalProperties": INT},
            "max_total_trials": _nullable(INT),
            "best": _nullable({"type": "object"}),
            "start_time": TIME,
        },
    },
    "BatchJobSummary": _object(
        "IBatchJobSummary",
        {
            "run_id": STRING,
            "status": STRING,
            "input": _nullable(STRING),
            "rows_scored": _nullable(NUMBER),
            "output": _nullable(STRING),
        },
    ),
    "BatchEndpoint": _object(
        "IBatchEndpoint",
        {
            "name": STRING,
            "model": STRING,
            "compute": STRING,
            "mini_batch_size": INT,
            "max_concurrency": INT,
            "output_action": STRING,
            "error_threshold": INT,
            "retries": INT,
            "created": INT,
            "last_job": _nullable(_ref("BatchJobSummary")),
        },
    ),
    "Endpoint": _object(
        "IEndpoint",
        {
            "name": STRING,
            "state": STRING,
            "reason": _nullable(STRING),
            "url": _nullable(STRING),
            "port": _nullable(INT),
            "pid": _nullable(INT),
            "description": STRING,
            "created": INT,
            "traffic": {"type": "object", "additionalProperties": INT},
            "mirror": {"type": "object", "additionalProperties": INT},
            "metrics": _ref("EndpointTotals"),
            "deployments": {"type": "array", "items": _ref("EndpointDeployment")},
        },
    ),
    "EndpointTotals": _object(
        "IEndpointTotals",
        {"requests": INT, "failures": INT, "client_errors": INT, "rate": NUMBER},
    ),
    "EndpointDeployment": _object(
        "IEndpointDeployment",
        {
            "name": STRING,
            "model": STRING,
            "model_name": STRING,
            "model_version": STRING,
            "model_uri": STRING,
            "state": STRING,
            "traffic": INT,
            "mirror": INT,
            "pid": _nullable(INT),
            "error": _nullable(STRING),
            "restarts": INT,
            "ready_since": TIME,
            "created": TIME,
            # {} before the deployment's first request
            "metrics": _ref("DeploymentFigures"),
            # share of requests whose inputs are kept for drift checks (0: off)
            "collect_inputs": {"type": "number", "minimum": 0, "maximum": 1},
        },
    ),
    "DeploymentFigures": _object(
        "IDeploymentFigures",
        {},
        {
            "requests": INT,
            "failures": INT,
            "client_errors": INT,
            "mirrored": INT,
            "rate": NUMBER,
            "latency_ms": _nullable(
                {"type": "object", "additionalProperties": NUMBER}  # p50, p95, p99
            ),
            "last_request": TIME,
        },
    ),
    "PipelineRun": {
        "type": "object",
        "x-ts-interface": "IPipelineRun",
        "required": ["run_id", "pipeline", "status", "steps_done", "steps_total"],
        "properties": {
            "run_id": STRING,
            "run_name": _nullable(STRING),
            "pipeline": STRING,
            "status": STRING,
            "start_time": TIME,
            "duration": _nullable(NUMBER),
            "steps_done": INT,
            "steps_total": INT,
            "reused": INT,
            "failed_step": _nullable(STRING),
            "experiment_id": STRING,
        },
    },
    "PipelineStep": {
        "type": "object",
        "required": ["name", "state", "upstream"],
        "properties": {
            "name": STRING,
            "component": STRING,
            "state": STRING,
            "run_id": _nullable(STRING),
            "upstream": {"type": "array", "items": STRING},
            "outputs": {"type": "array", "items": STRING},
            "attempt": INT,
            "reused_from": _nullable(STRING),
            "duration": _nullable(NUMBER),
        },
    },
    "DataVersion": _object(
        "IDataVersion",
        {
            "name": STRING,
            "version": INT,
            "type": STRING,
            "uri": STRING,
            "digest": STRING,
            "size": INT,
            "files": INT,
            "hash_mode": STRING,
            "datastore": _nullable(STRING),
            "produced_by": _nullable(STRING),
            "description": STRING,
            "archived": BOOL,
            "created": INT,
            "tags": {"type": "object", "additionalProperties": STRING},
        },
    ),
    "DataAsset": {
        "allOf": [
            {"$ref": "#/components/schemas/DataVersion"},
            _object("IDataAsset", {"latest": INT, "version_count": INT, "all_archived": BOOL}),
        ]
    },
    "LineageRun": _object(
        "ILineageRun",
        {"run_id": STRING, "run_name": _nullable(STRING), "status": STRING},
        {"experiment_id": STRING, "start_time": TIME, "context": STRING},
    ),
    "DataVersionDetail": {
        "allOf": [
            {"$ref": "#/components/schemas/DataVersion"},
            _object(
                "IDataVersionDetail",
                {
                    "used_by": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/LineageRun"},
                    },
                    "produced_by_run": _nullable({"$ref": "#/components/schemas/LineageRun"}),
                },
            ),
        ]
    },
    "RunDataItem": _object(
        "IRunDataItem",
        {
            "name": STRING,
            "version": _nullable(INT),
            "digest": STRING,
            "type": _nullable(STRING),
            "size": _nullable(INT),
            "uri": _nullable(STRING),
        },
        {"context": STRING},
    ),
    "RunMeta": _object(
        "IRunMeta",
        {
            "run_id": STRING,
            "run_name": STRING,
            "lifecycle_stage": STRING,
            "description": STRING,
            "tags": {"type": "object", "additionalProperties": STRING},
        },
    ),
    "Trial": _object(
        "ITrial",
        {
            "number": INT,
            "run_id": STRING,
            "run_name": STRING,
            "status": STRING,
            "state": STRING,
            "terminated_by": _nullable(STRING),
            "estimator": _nullable(STRING),
            "params": {"type": "object", "additionalProperties": STRING},
            "metrics": {"type": "object", "additionalProperties": _nullable(NUMBER)},
            "value": _nullable(NUMBER),
            "primary_metric": _nullable(_ref("PrimaryMetric")),
            "start_time": TIME,
            "end_time": TIME,
        },
    ),
    "Trials": _object(
        "ITrials",
        {
            "run_id": STRING,
            "run_name": STRING,
            "experiment_id": STRING,
            "status": STRING,
            "kind": {"enum": ["sweep", "automl"]},
            "goal": {"enum": ["maximize", "minimize"]},
            "primary_metric": STRING,
            "space": {"type": "array", "items": STRING},
            "trials": {"type": "array", "items": _ref("Trial")},
        },
    ),
    "RunData": _object(
        "IRunData",
        {
            "run_id": STRING,
            "inputs": {"type": "array", "items": {"$ref": "#/components/schemas/RunDataItem"}},
            "outputs": {"type": "array", "items": {"$ref": "#/components/schemas/RunDataItem"}},
        },
    ),
}


def _list_of(key: str, item: str, ts: str) -> dict[str, Any]:
    return _object(ts, {key: {"type": "array", "items": _ref(item)}})


def _answer(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


_ERRORS = {
    "400": _answer(_ref("Error"), "Invalid input (one line in message)"),
    "403": {"description": "No or wrong token"},
    "404": _answer(_ref("Error"), "Not found"),
    "409": _answer(_ref("Error"), "In conflict with the resource's state (one line in message)"),
}


def _get(summary: str, answer: dict[str, Any], parameters: list[dict] | None = None) -> dict:
    op = {
        "summary": summary,
        "parameters": parameters or [],
        "responses": {"200": _answer(answer), **_ERRORS},
    }
    return {"get": op}


def _path(name: str, description: str, pattern: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "minLength": 1}
    if pattern:
        schema["pattern"] = pattern
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


def _query(name: str, schema: dict[str, Any], description: str, explode: bool = False) -> dict:
    param = {"name": name, "in": "query", "required": False, "description": description}
    param["schema"] = schema
    if explode:
        param |= {"style": "form", "explode": True}
    return param


RUN_ID = _path("run_id", "The MLflow run id.", r"^[^/]+$")


def _run_action(summary: str) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "parameters": [RUN_ID],
            "requestBody": {"required": False, "content": {JSON: {"schema": RUN_ACTION_BODY}}},
            "responses": {"200": _answer(_ref("RunMeta")), **_ERRORS},
        }
    }


DATA_NAME = _path("name", "The data asset's name.", r"^[^/]+$")

PATHS: dict[str, Any] = {
    "/workspace": _get("Where the workspace is and which store it uses", _ref("Workspace")),
    "/experiments": _get(
        "Active experiments with run counts",
        _list_of("experiments", "Experiment", "IExperimentsAnswer"),
    ),
    "/runs": _get(
        "One page of runs, newest first",
        _ref("RunsPage"),
        [
            _query(
                "experiment_id",
                {"type": "array", "items": STRING},
                "Experiments to search (repeat the parameter); all when absent.",
                explode=True,
            ),
            _query("filter", STRING, "MLflow search filter, e.g. metrics.acc > 0.9"),
            _query(
                "order_by",
                {"type": "array", "items": STRING},
                "MLflow order clauses, e.g. metrics.acc DESC (repeatable).",
                explode=True,
            ),
            _query("page_size", {"type": "integer", "minimum": 1, "maximum": 500}, "Runs a page"),
            _query(
                "page_token",
                {"type": "string", "maxLength": 2048},
                "The next_page_token of the previous page, unchanged (opaque).",
            ),
        ],
    ),
    "/runs/{run_id}": _get(
        "One run: tags, artifacts (links out of its folder never followed), children",
        _ref("RunResponse"),
        [RUN_ID],
    ),
    "/runs/{run_id}/metrics/{key}": _get(
        "A metric's history, downsampled",
        _ref("MetricHistory"),
        [
            RUN_ID,
            _path("key", "The metric key (may hold /)."),
            _query(
                "max_points",
                {"type": "integer", "minimum": 10, "maximum": 10000},
                "At most this many points (min/max per bucket).",
            ),
        ],
    ),
    "/runs/{run_id}/artifacts/{path}": _get(
        "A preview of one artifact file inside the run's folder",
        _ref("ArtifactPreview"),
        [RUN_ID, _path("path", "Artifact path below the run's artifact folder (may hold /).")],
    ),
    "/models": _get(
        "Registered models with versions and aliases",
        _list_of("models", "RegisteredModel", "IModelsAnswer"),
    ),
    "/compute": _get("Compute targets", _list_of("targets", "ComputeTarget", "IComputeAnswer")),
    "/compute/{name}/{action}": {
        "post": {
            "summary": "Act on a compute target: start, stop, scale or delete",
            "parameters": [
                _path("name", "The compute target.", r"^[^/]+$"),
                {
                    "name": "action",
                    "in": "path",
                    "required": True,
                    "schema": {"enum": sorted(k.split(".")[1] for k in BODY_SCHEMAS)},
                },
            ],
            "requestBody": {
                "required": False,
                "description": "Per action: "
                + "; ".join(
                    f"{k.split('.')[1]}: {v['description']}" for k, v in BODY_SCHEMAS.items()
                ),
                "content": {
                    JSON: {
                        "schema": {
                            "oneOf": [
                                {"$ref": f"#/components/schemas/body.{k}"} for k in BODY_SCHEMAS
                            ]
                        }
                    }
                },
            },
            "responses": {"200": _answer(_ref("ComputeTarget")), **_ERRORS},
        }
    },
    "/sweeps": _get("Sweeps with progress", _list_of("sweeps", "Sweep", "ISweepsAnswer")),
    "/pipelines": _get(
        "Pipeline runs (parent runs tagged nbstudio.pipeline), newest first, with step counts",
        {
            "type": "object",
            "required": ["pipelines"],
            "properties": {"pipelines": {"type": "array", "items": _ref("PipelineRun")}},
        },
    ),
    "/pipelines/{run_id}": _get(
        "One pipeline run: its graph and each step's state (reused, finished, failed, ...)",
        {
            "allOf": [
                _ref("PipelineRun"),
                {
                    "type": "object",
                    "required": ["graph"],
                    "properties": {
                        "graph": {
                            "type": "object",
                            "required": ["steps", "edges"],
                            "properties": {
                                "steps": {"type": "array", "items": _ref("PipelineStep")},
                                "edges": {"type": "array", "items": {"type": "object"}},
                            },
                        }
                    },
                },
            ]
        },
        [RUN_ID],
    ),
    "/endpoints": _get("Online endpoints", _list_of("endpoints", "Endpoint", "IEndpointsAnswer")),
    "/batch": _get(
        "Batch endpoints, each with its latest job",
        _list_of("endpoints", "BatchEndpoint", "IBatchEndpointsAnswer"),
    ),
    "/data": _get(
        "Data assets, each with its latest live version, newest first",
        {
            "type": "object",
            "required": ["assets"],
            "properties": {"assets": {"type": "array", "items": _ref("DataAsset")}},
        },
        [_query("q", {"type": "string", "maxLength": 200}, "Text to find in names and tags.")],
    ),
    "/data/{name}": _get(
        "Every version of one data asset",
        {
            "type": "object",
            "required": ["name", "versions"],
            "properties": {
                "name": STRING,
                "versions": {"type": "array", "items": _ref("DataVersion")},
            },
        },
        [DATA_NAME],
    ),
    "/data/{name}/versions/{version}": _get(
        "One version with the runs that read it and the run that wrote it",
        _ref("DataVersionDetail"),
        [DATA_NAME, _path("version", "A version number, or latest.", r"^[^/]+$")],
    ),
    "/runs/{run_id}/data": _get(
        "The data assets a run read (inputs) and wrote (outputs)", _ref("RunData"), [RUN_ID]
    ),
    "/datastores": _get(
        "Datastores: the built-in folders and fsspec URLs (never credentials)",
        {
            "type": "object",
            "required": ["datastores"],
            "properties": {"datastores": {"type": "array", "items": {"type": "object"}}},
        },
    ),
    "/runs/{run_id}/state": _get(
        "A run's status now (a dead local kernel's run is ended KILLED first)",
        {"type": "object", "required": ["run_id", "status"]},
        [RUN_ID],
    ),
    "/runs/{run_id}/models": _get(
        "The models a run logged, with the versions registered from each",
        {"type": "object"},
        [RUN_ID],
    ),
    "/runs/{run_id}/models/{model_id}/register": {
        "post": {
            "summary": "Register a model the run logged as a new version",
            "parameters": [RUN_ID, _path("model_id", "The logged model's id.", r"^[^/]+$")],
            "requestBody": {
                "required": True,
                "content": {JSON: {"schema": REGISTER_MODEL_BODY}},
            },
            "responses": {"200": _answer({"type": "object"}), **_ERRORS},
        }
    },
    "/runs/{run_id}/meta": {
        **_get(
            "A run's name, lifecycle stage (active or deleted), description and tags",
            _ref("RunMeta"),
            [RUN_ID],
        ),
        "patch": {
            "summary": "Rename a run, set its description, add or remove tags",
            "parameters": [RUN_ID],
            "requestBody": {"required": True, "content": {JSON: {"schema": RUN_EDIT_BODY}}},
            "responses": {"200": _answer(_ref("RunMeta")), **_ERRORS},
        },
    },
    "/runs/{run_id}/delete": _run_action("Delete a run (MLflow's soft delete; restore undoes it)"),
    "/runs/{run_id}/restore": _run_action("Restore a deleted run"),
    "/runs/{run_id}/trials": _get(
        "The trials of a sweep or an AutoML job (404 for any other run)",
        _ref("Trials"),
        [RUN_ID],
    ),
    "/experiments/{experiment_id}/deleted-runs": _get(
        "An experiment's deleted runs, newest first (at most 500)",
        _list_of("runs", "RunSummary", "IDeletedRunsAnswer"),
        [_path("experiment_id", "The MLflow experiment id.", r"^[^/]+$")],
    ),
    "/openapi.json": {
        "get": {
            "summary": "This document",
            "responses": {"200": {"description": "The OpenAPI 3 document"}},
        }
    },
}


def openapi_document(base_url: str = "/") -> dict[str, Any]:
    """The document, for a server whose base URL is ``base_url``."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "nbstudio REST API",
            "version": nbstudio.__version__,
            "description": "The side panel's API. Every error is JSON with a one-line message; "
            "nothing a client sends produces a 500.",
        },
        "servers": [{"url": f"{base_url.rstrip('/')}/nbstudio/api"}],
        "security": [{"token": []}],
        "paths": PATHS,
        "components": {
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "'token <jupyter server token>', like every Jupyter API.",
                }
            },
            "schemas": {**SCHEMAS, **{f"body.{k}": v for k, v in BODY_SCHEMAS.items()}},
        },
    }


if __name__ == "__main__":
    # `python -m nbstudio.server.openapi` prints the document (the docs site's REST reference).
    import json

    print(json.dumps(openapi_document("/"), indent=1))  # noqa: T201
