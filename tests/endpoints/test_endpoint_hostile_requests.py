"""A real endpoint under hostile requests (issue 12): malformed keys, bodies it cannot parse,
bodies over its size limit, answers slower than its timeout; then Hypothesis-fuzzed headers and
bodies. Every answer is 2xx/4xx with a one-line JSON message, or a 5xx whose message is true.
"""

from __future__ import annotations

import json
import os
import time

import httpx
import psutil
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from helpers.fuzz import count, failure, fuzz_settings
from helpers.workspace import module_workspace

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

SLEEPY_MODEL = '''
import time

import mlflow


class Sleepy(mlflow.pyfunc.PythonModel):
    """Predicts 0; takes 3 s when the first value is -2."""

    def predict(self, context, model_input, params=None):
        if (model_input.iloc[:, 0] == -2).any():
            time.sleep(3)
        return [0] * len(model_input)


mlflow.models.set_model(Sleepy())
'''


class Env:
    def __init__(self, root) -> None:
        self.root = root

    def url(self, path: str = "/score") -> str:
        from nbstudio.endpoints import commands

        return f"http://127.0.0.1:{commands.records().read_status('fz').port}{path}"

    def headers(self, **extra: str) -> dict[str, str]:
        from nbstudio.endpoints import commands

        return {"Authorization": f"Bearer {commands.get_key('fz')}", **extra}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory):
    import mlflow
    import pandas as pd

    import nbstudio
    from nbstudio.endpoints import commands

    with module_workspace(tmp_path_factory.mktemp("endpoint-fuzz") / "ws") as root:
        code = root / "sleepy_model.py"
        code.write_text(SLEEPY_MODEL)
        example = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
        with mlflow.start_run(experiment_id=nbstudio.get_session().experiment_id("models")):
            mlflow.pyfunc.log_model(
                name="sleepy",
                python_model=str(code),
                input_example=example,
                pip_requirements=["mlflow"],
                registered_model_name="sleepy",
            )
        commands.create("fz", max_request_size="1MB", request_timeout=1.0)
        commands.deploy("fz", "blue", "sleepy")
        status = commands.records().read_status("fz")
        pids = [status.pid, *(d.pid for d in status.deployments.values())]
        try:
            yield Env(root)
        finally:
            commands.delete("fz")
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and any(psutil.pid_exists(p) for p in pids if p):
                time.sleep(0.1)


def _body(rows: list[list[float]]) -> str:
    return json.dumps({"dataframe_split": {"columns": ["a", "b"], "data": rows}})


def _one_line_json(response: httpx.Response) -> dict:
    body = response.json()
    assert isinstance(body.get("message"), str)
    assert "\n" not in body["message"]
    return body


def test_the_default_request_limit_is_20_mb() -> None:
    from nbstudio.endpoints.records import EndpointSpec

    # rule: like common serving defaults, 20 MB unless configured
    assert EndpointSpec(name="x").max_request_bytes == 20 * 1024 * 1024


def test_scoring_works(env) -> None:
    response = httpx.post(env.url(), content=_body([[1, 2]]), headers=env.headers())
    # rule: a good request is still answered
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "value",
    [b"Bearer caf\xe9", b"Bearer \xff\xfe", b"bearer", b"Bearer", b"\xe9", b"Bearer  x  y"],
)
def test_malformed_authorization_is_401(env, value: bytes) -> None:
    response = httpx.post(env.url(), content=_body([[1, 2]]), headers=[(b"Authorization", value)])
    # rule: any malformed header is a 401 with a JSON message, never a 500
    assert response.status_code == 401
    _one_line_json(response)


def test_a_body_nested_too_deep_is_400_with_the_reason(env) -> None:
    body = '{"dataframe_split": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = httpx.post(
        env.url(), content=body, headers=env.headers(**{"Content-Type": "application/json"})
    )
    # rule: a payload the worker cannot parse is a 400 saying why, not a false 502
    assert response.status_code == 400, response.text
    assert "nested too deeply" in _one_line_json(response)["message"]
    assert httpx.post(env.url(), content=_body([[1, 2]]), headers=env.headers()).status_code == 200


def test_a_body_over_the_limit_is_413(env) -> None:
    body = _body([[1.0, 2.0]] * 200_000)  # about 2 MB, the endpoint takes 1 MB
    response = httpx.post(env.url(), content=body, headers=env.headers())
    # rule: a body over the endpoint's limit is a 413 naming the limit
    assert response.status_code == 413
    assert "1000000 bytes" in _one_line_json(response)["message"]

    def chunks():
        for _ in range(300):
            yield b"x" * 10_000  # 3 MB with no Content-Length

    response = httpx.post(env.url(), content=chunks(), headers=env.headers())
    # rule: the limit holds for a streamed body without Content-Length too
    assert response.status_code == 413


def test_a_slow_answer_is_504(env) -> None:
    response = httpx.post(env.url(), content=_body([[-2, 0]]), headers=env.headers(), timeout=30)
    # rule: an answer slower than the endpoint's request timeout is a 504 saying so
    assert response.status_code == 504
    assert "within 1 s" in _one_line_json(response)["message"]
    time.sleep(2.5)  # the worker finishes the slow request before the next test


# What an HTTP client can send in a header (h11 refuses control characters and outer spaces).
HEADER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"),
    max_size=40,
).map(str.strip)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
PAYLOAD_KEYS = st.sampled_from(
    ["dataframe_split", "dataframe_records", "instances", "inputs", "params", "columns", "data"]
)
BODIES = st.one_of(
    st.dictionaries(PAYLOAD_KEYS, JSON_VALUES, max_size=3).map(lambda d: json.dumps(d).encode()),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
    st.sampled_from([b"", b"{", b"[" * 50_000, b"a,b\n1,2\n", b'{"inputs": NaN}']),
)
CONTENT_TYPES = st.one_of(
    st.sampled_from(["application/json", "text/csv", "text/plain", "application/json; x=1", ""]),
    HEADER_TEXT,
)


def test_fuzz_endpoint_headers_and_bodies(env) -> None:
    key = env.headers()["Authorization"]
    client = httpx.Client(timeout=30)

    @fuzz_settings(60)
    @given(
        auth=st.one_of(st.just(key), st.just(key), HEADER_TEXT),
        deployment=st.one_of(st.none(), st.just("blue"), HEADER_TEXT),
        content_type=CONTENT_TYPES,
        body=BODIES,
        path=st.sampled_from(["/score", "/invocations", "/health", "/metadata"]),
    )
    def request(auth, deployment, content_type, body, path) -> None:
        headers = [(b"Authorization", auth.encode("latin-1"))]
        if content_type:
            headers.append((b"Content-Type", content_type.encode("latin-1")))
        if deployment is not None:
            headers.append((b"nbstudio-deployment", deployment.encode("latin-1")))
        method = "GET" if path in ("/health", "/metadata") else "POST"
        try:
            response = client.request(method, env.url(path), content=body, headers=headers)
            code = response.status_code
            note(f"{method} {path} {headers!r} {body[:200]!r} -> {code} {response.text[:300]!r}")
            # rule: every answer is 2xx/4xx; an error is JSON with a one-line message
            assert code < 500, (code, response.text[:300])
            if code >= 400:
                _one_line_json(response)
        except AssertionError:
            failure("endpoint")
            raise
        count("endpoint", code)

    try:
        request()
    finally:
        client.close()
