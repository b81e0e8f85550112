"""JSON Schemas of request bodies: one place that validates them and documents them (OpenAPI).

A handler names its schema (``self.json_body(BODY_SCHEMAS["compute.scale"])``); the body is then
checked with ``jsonschema`` before any core call: unknown keys, wrong types and numbers out of
bounds are a 400 with one line saying which. `nbstudio.server.openapi` publishes the same schemas,
so the API document and the validation cannot drift. New routes add their schemas here.
"""

from __future__ import annotations

from typing import Any

import tornado.web
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

# A managed cluster runs its nodes as processes on this machine; the core refuses more than
# the machine's share (compute.targets.max_nodes_here), the schema bounds any machine.
MAX_NODES = 1024


def _count(low: int, description: str) -> dict[str, Any]:
    return {"type": "integer", "minimum": low, "maximum": MAX_NODES, "description": description}


def empty_body(description: str) -> dict[str, Any]:
    """A body that must be empty or ``{}``."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {},
        "description": description,
    }


BODY_SCHEMAS: dict[str, dict[str, Any]] = {
    "compute.start": empty_body("Start a stopped managed cluster; waits until it runs."),
    "compute.stop": empty_body("Stop a managed cluster; waits until its processes are gone."),
    "compute.delete": empty_body("Stop (if needed) and forget a compute target."),
    "compute.scale": {
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "properties": {
            "nodes": _count(0, "Bring the cluster to this many nodes now."),
            "min_nodes": _count(0, "New autoscale lower bound."),
            "max_nodes": _count(1, "New autoscale upper bound."),
        },
        "description": "Scale a running managed cluster now and/or change its autoscale bounds.",
    },
}


def validate_body(body: Any, schema: dict[str, Any]) -> dict[str, Any]:
    """``body`` if it matches ``schema``, else a 400 naming the first problem in one line."""
    error = best_match(Draft202012Validator(schema).iter_errors(body))
    if error is None:
        return body
    where = "/".join(str(p) for p in error.absolute_path)
    message = " ".join(error.message.split())
    if len(message) > 200:
        message = message[:197] + "..."
    at = f" at {where!r}" if where else ""
    # No %-arguments: jupyter_server answers log_message as it is.
    raise tornado.web.HTTPError(400, f"Invalid request body{at}: {message}")


#: Body of ``POST runs/<id>/models/<model id>/register``: the registered model's name.
REGISTER_MODEL_BODY: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 256}},
    "description": "Register a model the run logged as a new version of the model NAME.",
}


# -- run actions (nbstudio.tracking.run_actions; MLflow's limits) ------------------------------
_TAG_KEY = {"type": "string", "minLength": 1, "maxLength": 250}
_TAG_VALUE = {"type": "string", "maxLength": 8000}

#: Body of ``PATCH runs/<id>/meta``: any of a new name, a description, tags to set or remove.
RUN_EDIT_BODY: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 250},
        "description": {
            **_TAG_VALUE,
            "description": "MLflow's mlflow.note.content tag; empty removes it.",
        },
        "set_tags": {
            "type": "object",
            "maxProperties": 100,
            "propertyNames": _TAG_KEY,
            "additionalProperties": _TAG_VALUE,
        },
        "delete_tags": {"type": "array", "maxItems": 100, "items": _TAG_KEY},
    },
    "description": "Rename a run, set its description, add or remove tags "
    "(mlflow.* and nbstudio.* keys are refused).",
}

#: Body of ``POST runs/<id>/delete`` and ``POST runs/<id>/restore``.
RUN_ACTION_BODY: dict[str, Any] = empty_body("Delete (soft, as MLflow) or restore a run.")
