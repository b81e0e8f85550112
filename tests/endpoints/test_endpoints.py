"""Local online endpoints end to end: real endpoint processes and workers on 127.0.0.1, no mocks.

One workspace and one endpoint (``iris``) serve the whole module, because each deployment is a
process that imports MLflow and loads a model (seconds of CPU): blue serves ``iris@champion``
(version 1), green a retrained version 2, and ``picky`` a pyfunc model that raises on a sepal
length over 7 and kills its own process on -1. Tests run in file order and each sets the traffic
it needs. The module's teardown deletes every endpoint and checks that no process is left.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import psutil
import pytest

from helpers.workspace import module_workspace

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

PICKY_MODEL = '''
import os

import mlflow


class Picky(mlflow.pyfunc.PythonModel):
    """Predicts 0; raises on a sepal length over 7; kills its own process on -1."""

    def predict(self, context, model_input, params=None):
        first = model_input.iloc[:, 0]
        if (first == -1).any():
            os._exit(3)
        if (first > 7).any():
            raise ValueError("sepal length over 7 is not allowed")
        return [0] * len(model_input)


mlflow.models.set_model(Picky())
'''


class Env:
    """What the module's tests share: the workspace, data, models, pids seen."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pids: set[int] = set()
        self.X: pd.DataFrame
        self.pyfunc_v1 = None

    def url(self, name: str = "iris", path: str = "/score") -> str:
        from nbstudio.endpoints import commands

        status = commands.records().read_status(name)
        return f"http://127.0.0.1:{status.port}{path}"

    def key(self, name: str = "iris") -> str:
        from nbstudio.endpoints import commands

        return commands.get_key(name)

    def headers(self, name: str = "iris", **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key(name)}", **extra}

    def remember_pids(self, name: str = "iris") -> None:
        from nbstudio.endpoints import commands

        status = commands.records().read_status(name)
        if status and status.pid:
            self.pids.add(status.pid)
        for dep in (status.deployments if status else {}).values():
            if dep.pid:
                self.pids.add(dep.pid)


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_for(predicate, timeout: float = 20.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory):
    import mlflow
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    import nbstudio
    from nbstudio.endpoints import commands

    with module_workspace(tmp_path_factory.mktemp("endpoints") / "ws") as root:
        state = Env(root)
        X, y = load_iris(return_X_y=True, as_frame=True)
        state.X = X
        v1 = LogisticRegression(max_iter=500).fit(X, y)
        v2 = LogisticRegression(max_iter=500, C=0.05).fit(X, y)
        nbstudio.register_model(v1, "iris", aliases=["champion"], input_example=X.head(3))
        nbstudio.register_model(v2, "iris", aliases=["challenger"], input_example=X.head(3))
        code = root / "picky_model.py"
        code.write_text(PICKY_MODEL)
        with mlflow.start_run(experiment_id=nbstudio.get_session().experiment_id("models")):
            mlflow.pyfunc.log_model(
                name="picky",
                python_model=str(code),
                input_example=X.head(2),
                pip_requirements=["mlflow"],
                registered_model_name="picky",
            )
        state.pyfunc_v1 = mlflow.pyfunc.load_model("models:/iris/1")
        commands.create("iris")
        commands.deploy("iris", "blue", "iris@champion")
        state.remember_pids()
        try:
            yield state
        finally:
            for name in commands.records().names():
                state.remember_pids(name)
                commands.delete(name)
            # Rule: deleting the endpoints leaves no endpoint or worker process behind.
            assert _wait_for(lambda: not [p for p in state.pids if _running(p)], 15)


# -- scoring ---------------------------------------------------------------------------------


def _payload(kind: str, X: pd.DataFrame) -> tuple[str, str]:
    if kind == "dataframe_split":
        return json.dumps({"dataframe_split": X.to_dict(orient="split")}), "application/json"
    if kind == "dataframe_records":
        return json.dumps({"dataframe_records": X.to_dict(orient="records")}), "application/json"
    if kind == "instances":
        return json.dumps({"instances": X.to_dict(orient="records")}), "application/json"
    if kind == "inputs":
        return json.dumps({"inputs": X.to_dict(orient="list")}), "application/json"
    if kind == "csv":
        return X.to_csv(index=False), "text/csv"
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind", ["dataframe_split", "dataframe_records", "instances", "inputs", "csv"]
)
@pytest.mark.parametrize("route", ["/score", "/invocations"])
def test_every_mlflow_payload_format_gives_pyfunc_answers(env, kind, route):
    X = env.X.sample(20, random_state=1)
    body, content_type = _payload(kind, X)
    response = httpx.post(
        env.url(path=route), content=body, headers=env.headers(**{"Content-Type": content_type})
    )
    expected = env.pyfunc_v1.predict(X)
    # Rule: the payloads of `mlflow models serve` are answered in its shape with pyfunc's answers.
    assert response.status_code == 200, response.text
    assert response.json() == {"predictions": expected.tolist()}
    assert response.headers["nbstudio-deployment"] == "blue"


def test_invoke_returns_predictions_like_pyfunc(env):
    from nbstudio import endpoints

    predictions = endpoints.invoke("iris", env.X)
    # Rule: nbstudio.endpoints.invoke(name, dataframe) returns pyfunc's predictions as an array.
    np.testing.assert_array_equal(predictions, env.pyfunc_v1.predict(env.X))


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}],
    ids=["no-key", "wrong-key", "wrong-scheme"],
)
def test_requests_without_the_key_get_401(env, headers):
    body, _ = _payload("dataframe_split", env.X.head(2))
    response = httpx.post(env.url(), content=body, headers=headers)
    # Rule: the key is required as a Bearer token; otherwise 401 with a JSON message.
    assert response.status_code == 401
    assert "Bearer" in response.json()["message"]
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("{not json", "valid JSON"),
        ("[1, 2, 3]", "Received a list"),
        ('{"columns": [1]}', "exactly one of the input fields"),
        ('{"dataframe_split": {"columns": ["a"], "data": [[1, 2]]}}', "dataframe"),
        ('{"dataframe_records": [{"a": 1}]}', "missing inputs"),
    ],
    ids=["invalid-json", "list", "no-format-key", "bad-split", "wrong-columns"],
)
def test_bad_payloads_get_400_with_a_json_message(env, body, fragment):
    response = httpx.post(
        env.url(), content=body, headers=env.headers(**{"Content-Type": "application/json"})
    )
    # Rule: a payload the model cannot take is a 400 with MLflow's JSON error, not a crash.
    assert response.status_code == 400
    assert fragment in response.json()["message"]


def test_health_needs_no_key_and_metadata_shows_the_signature(env):
    health = httpx.get(env.url(path="/health"))
    metadata = httpx.get(env.url(path="/metadata"), headers=env.headers())
    # Rule: /health answers probes without a key; /metadata (with the key) gives the signature.
    assert health.status_code == 200
    assert health.json()["deployments"] == {"blue": "ready"}
    inputs = metadata.json()["signature"]["inputs"]
    assert [column["name"] for column in inputs] == list(env.X.columns)
    assert httpx.get(env.url(path="/metadata")).status_code == 401


# -- deployments and traffic -----------------------------------------------------------------


def test_new_deployment_takes_no_traffic_until_asked_and_header_targets_it(env):
    from nbstudio import endpoints

    shown = endpoints.deploy("iris", "green", "iris@challenger")
    env.remember_pids()
    # Rule: a second deployment is added with 0 % traffic; the first keeps everything.
    assert shown.traffic == {"blue": 100, "green": 0}
    assert {d.name: d.model_version for d in shown.deployments} == {"blue": "1", "green": "2"}
    body, _ = _payload("dataframe_split", env.X.head(3))
    served = Counter()
    for _ in range(20):
        served[
            httpx.post(env.url(), content=body, headers=env.headers()).headers[
                "nbstudio-deployment"
            ]
        ] += 1
    targeted = httpx.post(
        env.url(), content=body, headers=env.headers(**{"nbstudio-deployment": "green"})
    )
    # Rule: live traffic all goes to blue; the nbstudio-deployment header reaches green anyway.
    assert served == Counter({"blue": 20})
    assert targeted.headers["nbstudio-deployment"] == "green"
    unknown = httpx.post(
        env.url(), content=body, headers=env.headers(**{"nbstudio-deployment": "red"})
    )
    assert unknown.status_code == 404


def test_traffic_split_follows_the_weights_over_1000_requests(env):
    from nbstudio import endpoints

    endpoints.set_traffic("iris", {"blue": 70, "green": 30})
    body, _ = _payload("dataframe_split", env.X.head(1))
    served: Counter = Counter()

    def send(count: int) -> None:
        with httpx.Client(headers=env.headers()) as client:
            for _ in range(count):
                served[client.post(env.url(), content=body).headers["nbstudio-deployment"]] += 1

    threads = [threading.Thread(target=send, args=(250,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Rule: 1,000 requests split 70/30 within 3 % (the router is exact per 100 requests).
    assert sum(served.values()) == 1000
    assert abs(served["blue"] - 700) <= 30
    assert abs(served["green"] - 300) <= 30


def test_mirror_copies_traffic_without_answering_from_it(env):
    from nbstudio import endpoints
    from nbstudio.endpoints import telemetry

    endpoints.set_traffic("iris", {"blue": 100}, mirror={"green": 20})
    db = endpoints.commands.records().monitoring_db
    before = telemetry.summary(db, "iris").get("green", {}).get("mirrored", 0)
    body, _ = _payload("dataframe_split", env.X.head(1))
    with httpx.Client(headers=env.headers()) as client:
        answered = Counter(
            client.post(env.url(), content=body).headers["nbstudio-deployment"] for _ in range(100)
        )
    mirrored = _wait_for(
        lambda: telemetry.summary(db, "iris")["green"]["mirrored"] - before == 20 and 20
    )
    # Rule: every answer comes from live traffic; exactly 20 % of requests are copied to green.
    assert answered == Counter({"blue": 100})
    assert mirrored == 20
    endpoints.set_traffic("iris", mirror={"green": 0})


def test_traffic_errors_are_one_line_and_change_nothing(env):
    from nbstudio import endpoints
    from nbstudio.endpoints.errors import EndpointError

    # Rule: weights that do not add to 100 are refused; the traffic in force stays.
    with pytest.raises(EndpointError, match="add up to 100"):
        endpoints.set_traffic("iris", {"blue": 80, "green": 30})
    with pytest.raises(EndpointError, match="No endpoint named 'nope'"):
        endpoints.set_traffic("nope", {"blue": 100})
    assert endpoints.show("iris").traffic == {"blue": 100, "green": 0}


# -- failures --------------------------------------------------------------------------------


def test_model_exception_is_a_500_recorded_with_its_traceback(env):
    from nbstudio import endpoints

    endpoints.deploy("iris", "picky", "picky/1")
    env.remember_pids()
    big = env.X.head(2).assign(**{"sepal length (cm)": 7.5})
    body, _ = _payload("dataframe_split", big)
    response = httpx.post(
        env.url(), content=body, headers=env.headers(**{"nbstudio-deployment": "picky"})
    )
    # Rule: an exception raised by the model is a 500 with a JSON message, not a 400.
    assert response.status_code == 500
    assert "ValueError: sepal length over 7" in response.json()["message"]
    exceptions = _wait_for(lambda: endpoints.metrics("iris")["exceptions"])
    # Rule: it is recorded for the monitor with its traceback.
    assert exceptions[0]["deployment"] == "picky"
    assert "raise ValueError" in exceptions[0]["traceback"]
    ok = httpx.post(
        env.url(),
        content=_payload("dataframe_split", env.X.head(2))[0],
        headers=env.headers(**{"nbstudio-deployment": "picky"}),
    )
    # Rule: the worker keeps serving after the exception.
    assert ok.json() == {"predictions": [0, 0]}


def test_a_crashing_model_does_not_take_the_other_deployments_down(env):
    from nbstudio import endpoints

    crash = env.X.head(1).assign(**{"sepal length (cm)": -1.0})
    response = httpx.post(
        env.url(),
        content=_payload("dataframe_split", crash)[0],
        headers=env.headers(**{"nbstudio-deployment": "picky"}),
    )
    # Rule: a worker that dies mid-request gives a 502 JSON answer...
    assert response.status_code == 502
    assert "picky" in response.json()["message"]
    body, _ = _payload("dataframe_split", env.X.head(2))
    # Rule: ...while the other deployments keep answering...
    assert httpx.post(env.url(), content=body, headers=env.headers()).status_code == 200

    def picky_ready():
        deployment = {d.name: d for d in endpoints.show("iris").deployments}["picky"]
        return deployment.state == "ready" and deployment.restarts == 1

    # Rule: ...and the endpoint restarts the dead worker.
    assert _wait_for(picky_ready, 60)
    env.remember_pids()


def test_a_model_failing_its_health_check_gets_no_traffic(env):
    import mlflow

    from nbstudio import endpoints
    from nbstudio.endpoints.errors import EndpointError

    code = env.root / "picky_model.py"
    bad_example = env.X.head(2).assign(**{"sepal length (cm)": 9.0})
    with mlflow.start_run():
        mlflow.pyfunc.log_model(
            name="picky",
            python_model=str(code),
            input_example=bad_example,
            pip_requirements=["mlflow"],
            registered_model_name="picky",
        )
    # Rule: a model that fails on its own input example fails the deployment, clearly...
    with pytest.raises(EndpointError, match=r"failed: .*input example.*Traffic is unchanged"):
        endpoints.deploy("iris", "picky", "picky/2", traffic=50)
    shown = endpoints.show("iris")
    picky = {d.name: d for d in shown.deployments}["picky"]
    # Rule: ...traffic stays as it was and the previous version keeps serving.
    assert shown.traffic == {"blue": 100, "green": 0, "picky": 0}
    assert (picky.model_version, picky.state) == ("1", "ready")


def test_unknown_models_are_refused_before_anything_starts(env):
    from nbstudio import endpoints
    from nbstudio.errors import NbstudioError

    # Rule: an alias or version that does not exist is a one-line error naming what exists.
    with pytest.raises(NbstudioError, match="no alias 'gold'"):
        endpoints.deploy("iris", "gold", "iris@gold")
    with pytest.raises(NbstudioError, match="deploy a registered model"):
        endpoints.deploy("iris", "gold", "runs:/abc/model")


# -- rollout, keys, lifecycle ------------------------------------------------------------------


def test_blue_green_rollout_under_a_steady_stream_fails_nothing(env):
    from nbstudio import endpoints

    endpoints.delete("iris", "picky")
    endpoints.set_traffic("iris", {"blue": 100})
    body, _ = _payload("dataframe_split", env.X.head(1))
    statuses: Counter = Counter()
    served: Counter = Counter()
    stop = threading.Event()

    def stream() -> None:
        with httpx.Client(headers=env.headers(), timeout=30) as client:
            while not stop.is_set():
                response = client.post(env.url(), content=body)
                statuses[response.status_code] += 1
                served[response.headers.get("nbstudio-deployment")] += 1
                time.sleep(0.02)  # a steady stream that leaves the new worker CPU to load

    threads = [threading.Thread(target=stream)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        old_green = {d.name: d.pid for d in endpoints.show("iris").deployments}["green"]
        endpoints.deploy("iris", "green", "iris/1", traffic=10)  # a new model for green
        endpoints.set_traffic("iris", {"blue": 50, "green": 50})
        endpoints.set_traffic("iris", {"green": 100})
        time.sleep(0.3)
        endpoints.delete("iris", "blue")
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    # Rule: no request fails while a deployment is replaced, traffic moves and blue is deleted.
    assert set(statuses) == {200}, statuses
    assert served["blue"] > 0
    assert served["green"] > 0
    # Rule: the replaced green worker and the deleted blue worker are gone.
    assert not _running(old_green)
    shown = endpoints.show("iris")
    assert [(d.name, d.model_version, d.traffic) for d in shown.deployments] == [
        ("green", "1", 100)
    ]
    env.remember_pids()


def test_regenerated_key_replaces_the_old_one_at_once(env):
    from nbstudio import endpoints

    old = endpoints.get_key("iris")
    new = endpoints.get_key("iris", regenerate=True)
    body, _ = _payload("dataframe_split", env.X.head(1))
    with_old = httpx.post(env.url(), content=body, headers={"Authorization": f"Bearer {old}"})
    with_new = httpx.post(env.url(), content=body, headers={"Authorization": f"Bearer {new}"})
    # Rule: when regenerate returns, the old key is refused and the new one works.
    assert new != old
    assert (with_old.status_code, with_new.status_code) == (401, 200)


def test_monitoring_figures_match_the_requests_sent(env):
    from nbstudio import endpoints

    def figures():
        return endpoints.metrics("iris")["summary"].get("green", {})

    def settled():
        # Requests of earlier tests are written in batches every 0.25 s: wait until none is due.
        first = figures()
        time.sleep(0.6)
        return first == figures() and first

    before = _wait_for(settled, 10)
    started_ms = int(time.time() * 1000)
    good, _ = _payload("dataframe_split", env.X.head(1))
    latencies = []
    with httpx.Client(headers=env.headers()) as client:
        for _ in range(30):
            started = time.perf_counter()
            client.post(env.url(), content=good)
            latencies.append((time.perf_counter() - started) * 1000)
        for _ in range(5):
            client.post(env.url(), content="{broken")
    expected = before.get("requests", 0) + 35
    after = _wait_for(lambda: figures()["requests"] == expected and figures(), 10)
    # Rule: counts are exact: 35 requests of which 5 client errors and no failures.
    assert after["requests"] == expected
    assert after["client_errors"] - before.get("client_errors", 0) == 5
    assert after["failures"] == before.get("failures", 0)
    # Rule: each request's latency is measured inside the endpoint: below what the client saw.
    with sqlite3.connect(endpoints.commands.records().monitoring_db) as conn:
        rows = conn.execute(
            "SELECT latency, status FROM requests WHERE endpoint = 'iris' AND ts >= ? "
            "AND deployment = 'green' AND mirror = 0",
            (started_ms,),
        ).fetchall()
    assert sorted(status for _, status in rows) == [200] * 30 + [400] * 5
    ok = [latency for latency, status in rows if status == 200]
    assert 0 < np.percentile(ok, 50) <= np.percentile(latencies, 50)
    assert (
        0 < after["latency_ms"]["p50"] <= after["latency_ms"]["p95"] <= after["latency_ms"]["p99"]
    )
    assert after["rate"] > 0
    series = endpoints.metrics("iris")["series"]["deployments"]["green"]
    assert sum(series["rate"]) > 0


def test_stop_and_start_keep_url_key_and_figures(env):
    from nbstudio import endpoints
    from nbstudio.endpoints.errors import EndpointError

    before = endpoints.show("iris")
    env.remember_pids()
    pids = [before.pid, *(d.pid for d in before.deployments)]
    stopped = endpoints.stop("iris")
    # Rule: stop ends the endpoint process and its workers; the endpoint is kept, stopped.
    assert stopped.state == "stopped"
    assert _wait_for(lambda: not [p for p in pids if _running(p)], 10)
    with pytest.raises(EndpointError, match="not running"):
        endpoints.invoke("iris", env.X.head(1))
    started = endpoints.start("iris")
    env.remember_pids()
    # Rule: start serves again at the same URL with the same key; figures survived the restart.
    assert (started.state, started.url) == ("running", before.url)
    assert started.metrics["requests"] >= before.metrics["requests"]
    assert endpoints.invoke("iris", env.X.head(2)).shape == (2,)


def test_endpoint_outlives_the_process_that_started_it(env):
    script = (
        "from nbstudio import endpoints; endpoints.create('detached')\n"
        "print(endpoints.commands.records().read_status('detached').pid)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=env.root, capture_output=True, text=True, check=True
    )
    pid = int(done.stdout.strip().splitlines()[-1])
    env.pids.add(pid)
    # Rule: the endpoint process keeps running after the kernel (here a script) that made it.
    assert _running(pid)
    response = httpx.get(env.url("detached", "/health"))
    assert response.json()["status"] == "healthy"


# -- interfaces ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shell(env):
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.run_line_magic("load_ext", "nbstudio")
    yield ip
    ip.reset(new_session=False)


def test_magics_drive_the_same_core(env, shell):
    from nbstudio.endpoints.commands import EndpointInfo

    shell.user_ns["X"] = env.X.head(4)
    table = shell.run_line_magic("endpoint", "list")
    shown = shell.run_line_magic("endpoint", "show iris")
    predictions = shell.run_line_magic("endpoint", "invoke iris --data X")
    logs = shell.run_line_magic("endpoint", "logs iris green --tail 5")
    key = shell.run_line_magic("endpoint", "key iris")
    # Rule: each verb returns what a notebook shows: tables, the endpoint, predictions, text.
    assert set(table["endpoint"]) == {"iris", "detached"}
    assert isinstance(shown, EndpointInfo)
    assert "green" in repr(shown)
    assert "<table" in shown._repr_html_()
    np.testing.assert_array_equal(predictions, env.pyfunc_v1.predict(env.X.head(4)))
    assert "Ready" in logs or "Loaded" in logs
    assert repr(key) == env.key()
    # Rule: VERB -h explains the verb.
    assert "--traffic" in repr(shell.run_line_magic("endpoint", "deploy -h"))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("", "use one of"),
        ("explode iris", "unknown verb 'explode'"),
        ("traffic iris green=50", "add up to 100"),
        ("traffic iris green=lots", "DEPLOYMENT=PERCENT"),
        ("deploy iris", "the following arguments are required"),
        ("invoke iris --data missing", "no variable named 'missing'"),
        ("show ghost", "No endpoint named 'ghost'"),
        ("delete iris green", "still takes traffic"),
    ],
    ids=["empty", "verb", "sum", "malformed", "missing-args", "variable", "unknown", "busy"],
)
def test_magic_mistakes_are_one_line_usage_errors(shell, line, message):
    from IPython.core.error import UsageError

    # Rule: user mistakes are a UsageError saying what to do, never a traceback.
    with pytest.raises(UsageError, match=message):
        shell.run_line_magic("endpoint", line)


def test_monitor_widget_shows_the_figures(env, shell):
    monitor = shell.run_line_magic("endpoint", "monitor iris --interval 0.5")
    try:
        data = monitor.refresh()
        # Rule: the live widget shows the table and one chart trace set per deployment.
        assert "green" in monitor._summary.value
        assert f"{data['summary']['green']['requests']:,}" in monitor._summary.value
        assert {trace.name for trace in monitor.figure.data} >= {"green req/s", "green p95"}
        assert "ValueError" in monitor._exceptions.value or "WorkerExited" in (
            monitor._exceptions.value
        )
        # Rule: it refreshes by itself in the background.
        assert monitor.polling
    finally:
        monitor.stop()
        monitor.close()
    assert not monitor.polling


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run ``nbstudio endpoint ARGS`` (the console entry point) in this process."""
    from nbstudio.cli import main

    capsys.readouterr()
    code = main(["endpoint", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_console_command_uses_the_same_core(env, capsys, tmp_path):
    payload = tmp_path / "payload.json"
    payload.write_text(_payload("dataframe_split", env.X.head(3))[0])
    listed = _cli(capsys, "list", "--json")
    invoked = _cli(capsys, "invoke", "iris", "--data", str(payload))
    monitored = _cli(capsys, "monitor", "iris")
    missing = _cli(capsys, "show", "ghost")
    # Rule: `nbstudio endpoint` lists, invokes and monitors the workspace's endpoints.
    assert listed[0] == 0, listed[2]
    assert {e["name"] for e in json.loads(listed[1])} == {"iris", "detached"}
    assert json.loads(invoked[1]) == {"predictions": env.pyfunc_v1.predict(env.X.head(3)).tolist()}
    assert "green" in monitored[1]
    assert "p95 ms" in monitored[1]
    # Rule: a user mistake is one line on stderr and exit code 1.
    assert missing[0] == 1
    assert missing[2].strip().splitlines() == [
        "nbstudio endpoint: No endpoint named 'ghost' (endpoints: detached, iris). "
        "Create it with: %endpoint create ghost"
    ]


def test_console_entry_point_is_installed(env):
    done = subprocess.run(
        [sys.executable, "-m", "nbstudio.cli", "endpoint", "key", "iris"],
        cwd=env.root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # Rule: the console command prints the key a client needs, from any process.
    assert done.stdout.strip() == env.key()


def test_api_lists_endpoints_as_json_ready_dicts(env):
    from nbstudio.endpoints import api

    endpoints = {e["name"]: e for e in api.list_endpoints()}
    iris = endpoints["iris"]
    # Rule: the REST API's dicts carry state, URL, traffic, deployments and their figures.
    json.dumps(endpoints, allow_nan=False)
    assert iris["state"] == "running"
    assert iris["url"].startswith("http://127.0.0.1:")
    assert iris["traffic"] == {"green": 100}
    (green,) = iris["deployments"]
    assert (green["name"], green["state"], green["model_uri"]) == (
        "green",
        "ready",
        "models:/iris/1",
    )
    assert green["metrics"]["requests"] > 0
    assert set(green["metrics"]["latency_ms"]) == {"p50", "p95", "p99"}
    detail = api.get_endpoint("iris")
    assert "green" in detail["series"]["deployments"]
    assert detail["exceptions"]


def test_delete_leaves_no_process_and_no_files(env):
    from nbstudio import endpoints
    from nbstudio.endpoints.errors import UnknownEndpointError

    env.remember_pids("detached")
    env.remember_pids("iris")
    status = endpoints.commands.records().read_status("iris")
    server = psutil.Process(status.pid)
    pids = [status.pid, *(child.pid for child in server.children(recursive=True))]
    env.pids.update(pids)
    message = endpoints.delete("iris")
    # Rule: delete ends the endpoint process and every process it started (its workers and the
    # forkserver that forks them), and removes its folder.
    assert len(pids) >= 3
    assert "Deleted" in message
    assert _wait_for(lambda: not [p for p in pids if _running(p)], 10)
    assert not (env.root / ".nbstudio" / "endpoints" / "iris").exists()
    with pytest.raises(UnknownEndpointError):
        endpoints.show("iris")
