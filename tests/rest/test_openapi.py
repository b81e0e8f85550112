"""The OpenAPI document: it covers every route, matches the panel's TypeScript types, and
Schemathesis finds no failure against a live ``jupyter server`` (token auth, every route, every
documented parameter, schema-valid and schema-invalid requests)."""

from __future__ import annotations

import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest
import schemathesis
from hypothesis import given
from schemathesis.generation import GenerationMode

from helpers.fuzz import count, failure, fuzz_settings

API_TS = Path(__file__).parents[2] / "labextension" / "src" / "api.ts"


def _template(pattern: str) -> str:
    """``runs/(?P<run_id>[^/]+)`` -> ``/runs/{run_id}``."""
    return "/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern).replace("\\.", ".")


def test_every_route_is_documented() -> None:
    from nbstudio.server.openapi import openapi_document
    from nbstudio.server.routes import ROUTES

    paths = openapi_document()["paths"]
    # rule: the document describes every route the server has, and no other
    assert sorted(_template(p) for p, _ in ROUTES) == sorted(paths)


def test_documented_query_parameters_are_the_accepted_ones() -> None:
    from nbstudio.server.openapi import openapi_document
    from nbstudio.server.routes import ROUTES

    paths = openapi_document()["paths"]
    for pattern, handler in ROUTES:
        for operation in paths[_template(pattern)].values():
            documented = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            # rule: a route takes exactly the query parameters openapi.json documents
            assert documented == set(handler.query_parameters), pattern


def _ts_interfaces(text: str) -> dict[str, set[str]]:
    found = {}
    for match in re.finditer(r"export interface (\w+)(?: extends \w+)? \{(.*?)\n\}", text, re.S):
        fields = re.findall(r"^\s{2}(\w+)\??:", match.group(2), re.M)
        found[match.group(1)] = set(fields)
    return found


def test_api_ts_types_are_in_step() -> None:
    from nbstudio.server.openapi import openapi_document

    interfaces = _ts_interfaces(API_TS.read_text())
    checked = 0
    for schema in openapi_document()["components"]["schemas"].values():
        parts = schema.get("allOf", [schema])
        for part in parts:
            name = part.get("x-ts-interface")
            if name in interfaces:
                checked += 1
                # rule: api.ts lists exactly the fields the OpenAPI document gives
                assert interfaces[name] == set(part["properties"]), name
    assert checked >= 12


@pytest.fixture(scope="module")
def live_server(populated, tmp_path_factory: pytest.TempPathFactory):
    """``jupyter server`` with the extension on the populated workspace; stopped by PID."""
    base = tmp_path_factory.mktemp("jupyter")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    token = secrets.token_hex(16)
    env = {
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_DATA_DIR": str(base / "data"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "HOME": str(base),
    }
    log = (base / "server.log").open("w")
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "jupyter"),
            "server",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={populated.root}",
            "--ServerApp.jpserver_extensions={'nbstudio': True}",
        ],
        cwd=populated.root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, (base / "server.log").read_text()[-3000:]
            try:
                if httpx.get(f"{url}/api/status?token={token}", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        yield url, {"Authorization": f"token {token}"}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
        assert not psutil.pid_exists(proc.pid) or psutil.Process(proc.pid).status() == "zombie"


def test_schemathesis_finds_no_failure(live_server) -> None:
    url, auth = live_server
    schema = schemathesis.openapi.from_url(f"{url}/nbstudio/api/openapi.json", headers=auth)
    operations = [result.ok() for result in schema.get_all_operations()]
    # rule: Schemathesis reaches every documented operation
    assert len(operations) >= 11
    share = 1 / (2 * len(operations))  # FUZZ_EXAMPLES is the suite's total
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _operation_test(operation, mode, url, auth, share)()


def _operation_test(operation, mode, url: str, auth: dict, share: float):
    """The Hypothesis test of one operation in one generation mode."""
    # Opaque page tokens and MLflow filters are strings to the schema, so a schema-valid
    # request may still be refused (400): that check does not apply; every other does.
    excluded = [schemathesis.checks.positive_data_acceptance]
    negative = mode is GenerationMode.NEGATIVE

    @fuzz_settings(15, share)
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case) -> None:
        # The real token, unless a negative case left the header out on purpose.
        dropped = negative and "Authorization" not in (case.headers or {})
        headers = {} if dropped else auth
        response = case.call(headers=headers, base_url=f"{url}/nbstudio/api")
        try:
            # rule: no failure of Schemathesis' checks (no 5xx, documented answers)
            case.validate_response(response, headers=headers, excluded_checks=excluded)
            if response.status_code >= 400 and response.status_code != 403:
                # rule: an error is JSON with a one-line message
                assert "\n" not in response.json()["message"]
        except BaseException:
            failure("schemathesis")
            raise
        count("schemathesis", response.status_code)

    return check
