"""Scoring on an endpoint from Python: ``invoke`` posts a payload with the endpoint's key."""

from __future__ import annotations

import threading
from typing import Any

from nbstudio.endpoints.errors import EndpointError, ScoringError
from nbstudio.endpoints.records import RUNNING
from nbstudio.endpoints.views import alive, records

_http: Any = None
_http_lock = threading.Lock()


def _client() -> Any:
    global _http
    with _http_lock:
        if _http is None:
            import httpx

            _http = httpx.Client(timeout=60.0)
        return _http


def scoring_target(name: str) -> tuple[str, str]:
    """``(url, key)`` of a running endpoint, or an error saying how to start it."""
    recs = records()
    spec = recs.spec(name)
    status = recs.read_status(name)
    if not alive(status) or status is None or status.state != RUNNING:
        raise EndpointError(f"Endpoint {name!r} is not running: %endpoint start {name}")
    return f"http://127.0.0.1:{status.port}/score", spec.key


def invoke(
    name: str,
    data: Any,
    deployment: str | None = None,
    params: dict[str, Any] | None = None,
    timeout: float = 60.0,
) -> Any:
    """Score ``data`` (a DataFrame, array, list, dict, or a JSON payload string) on endpoint
    ``name`` and return the predictions: an array for one value per row, a DataFrame otherwise.

    ``deployment`` sends the request to that deployment whatever the traffic weights are (the
    ``nbstudio-deployment`` header). An error answer raises `ScoringError` with its message.
    """
    import httpx
    from mlflow.deployments import PredictionsResponse
    from mlflow.utils.proto_json_utils import dump_input_data

    url, key = scoring_target(name)
    body = data if isinstance(data, str) else dump_input_data(data, params=params)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    if deployment:
        headers["nbstudio-deployment"] = deployment
    try:
        response = _client().post(url, content=body, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        raise EndpointError(f"Cannot reach endpoint {name!r} at {url}: {exc}") from None
    try:
        payload = response.json()
    except ValueError:
        payload = {"message": response.text}
    if response.status_code != 200:
        message = payload.get("message", response.text) if isinstance(payload, dict) else payload
        raise ScoringError(
            f"Endpoint {name!r} answered {response.status_code}: {message}",
            response.status_code,
            payload.get("error_code") if isinstance(payload, dict) else None,
        )
    if not isinstance(payload, dict) or "predictions" not in payload:
        return payload
    predictions = payload["predictions"]
    result = PredictionsResponse(payload)
    if isinstance(predictions, list) and not any(isinstance(p, dict) for p in predictions):
        return result.get_predictions(predictions_format="ndarray")
    return result.get_predictions(predictions_format="dataframe")
