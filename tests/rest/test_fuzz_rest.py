"""Fuzz the REST API through the real jupyter_server with Hypothesis: hostile query strings, path
segments and bodies on every route.

Properties: every answer is 2xx or 4xx; an error is JSON with a one-line ``message``; no read
creates a file or folder in the workspace; the store's run count and ``PRAGMA integrity_check``
are unchanged. ``FUZZ_EXAMPLES`` raises the number of examples (see tests/helpers/fuzz.py).
"""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

from hypothesis import given
from hypothesis import strategies as st

from helpers.fuzz import count, failure, files_under, fuzz_settings, store_state

SUITE = "rest"

HOSTILE = st.sampled_from(
    [
        "",
        "0",
        "-1",
        "9" * 30,
        "1e400",
        "nan",
        "NaN",
        "Infinity",
        "null",
        "[]",
        "{}",
        "é",
        "\u202e",
        "\x00",
        "..",
        "../..",
        "%",
        "%00",
        "'",
        '"',
        "`",
        "' OR 1=1 --",
        "metrics.m0 > 0.5",
        "params.p0 = 'a'",
        "tags.`mlflow.runName` LIKE '%run%'",
        "attributes.status = 'FINISHED'",
        "metrics.m0 DESC",
        "start_time ASC",
        "a" * 5000,
        "eyJ2IjogMSwgIm9mZnNldCI6IDV9",  # base64 of {"v": 1, "offset": 5}
        "eyJ2IjoxLCJvZmZzZXQiOi0xfQ",  # {"v":1,"offset":-1}
        "eyJvZmZzZXQiOiBbMV19",  # {"offset": [1]}
    ]
)
TEXT = st.one_of(HOSTILE, st.text(max_size=40), st.from_regex(r"[0-9]{1,40}", fullmatch=True))
PARAM_NAMES = st.sampled_from(
    ["experiment_id", "filter", "order_by", "page_size", "page_token", "max_points", "x", "é"]
)
RUNS_PARAMS = st.sampled_from(["experiment_id", "filter", "order_by", "page_size", "page_token"])


def _query(
    names: st.SearchStrategy[str], good: st.SearchStrategy[str]
) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Mostly the route's own parameters with good or hostile values; now and then any other
    name (a 400)."""
    value = st.one_of(good, good, TEXT)
    return st.lists(st.tuples(st.one_of(names, names, names, PARAM_NAMES), value), max_size=4)


# Routes without parameters: mostly none, sometimes one they do not take (a 400).
NO_PARAMS = st.one_of(st.just([]), st.just([]), st.lists(st.tuples(PARAM_NAMES, TEXT), max_size=1))
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
BODY_KEYS = st.sampled_from(["nodes", "min_nodes", "max_nodes", "name", "action", "self", "x"])
BODIES = st.one_of(
    st.dictionaries(BODY_KEYS, JSON_VALUES, max_size=3).map(json.dumps),
    JSON_VALUES.map(json.dumps),
    st.sampled_from(["", "{", "[" * 5000, "nan", '{"nodes": 1e400}', "\xff"]),
    st.binary(max_size=30).map(lambda b: b.decode("latin-1")),
)


def _routes(store) -> st.SearchStrategy[str]:
    run_ids = st.sampled_from([store.tracked, store.parent, store.history, *store.runs[:3]])
    run = st.one_of(run_ids, TEXT)
    key = st.one_of(st.sampled_from(["train/loss", "plain", "m0", "loss"]), TEXT)
    path = st.one_of(
        st.sampled_from(["cell.py", "outputs/log.txt", "plots/dot.png", "escape.txt"]), TEXT
    )
    good = st.sampled_from(
        [store.exp_a, store.exp_b, "5", "50", "500", "metrics.m0 > 0.5", "metrics.m0 DESC"]
    )
    plain = st.sampled_from(
        ["workspace", "experiments", "models", "compute", "sweeps", "endpoints", "openapi.json"]
    )
    return st.one_of(
        st.tuples(plain, NO_PARAMS),
        st.tuples(st.just("runs"), _query(RUNS_PARAMS, good)),
        st.tuples(run.map(lambda r: f"runs/{_seg(r)}"), NO_PARAMS),
        st.tuples(
            st.tuples(run, key).map(lambda t: f"runs/{_seg(t[0])}/metrics/{_seg(t[1], '/')}"),
            _query(st.just("max_points"), st.sampled_from(["10", "100", "10000"])),
        ),
        st.tuples(
            st.tuples(run, path).map(lambda t: f"runs/{_seg(t[0])}/artifacts/{_seg(t[1], '/')}"),
            NO_PARAMS,
        ),
    )


def _seg(text: str, safe: str = "") -> str:
    return quote(text, safe=safe) or "x"


def _check(response, suite: str) -> None:
    code = response.code
    try:
        # rule: nothing a client sends produces a 5xx
        assert 200 <= code < 500, (code, response.body[:300])
        body = json.loads(response.body)
        if code >= 400:
            # rule: an error is JSON with a one-line message
            assert isinstance(body.get("message"), str), body
            assert "\n" not in body["message"], body
    except AssertionError:
        failure(suite)
        raise
    count(suite, code)


def test_fuzz_reads(
    jp_serverapp, http_server_client, jp_auth_header, jp_base_url, jp_asyncio_loop, populated
) -> None:
    db = populated.root / ".nbstudio" / "mlflow.db"
    before_files = files_under(populated.root)
    before_store = store_state(db)
    headers = dict(jp_auth_header)

    def fetch(url: str, **kwargs):
        future = http_server_client.fetch(url, headers=headers, raise_error=False, **kwargs)
        return jp_asyncio_loop.run_until_complete(future)

    @fuzz_settings(200, share=0.6)
    @given(request=_routes(populated))
    def read(request: tuple[str, list[tuple[str, str]]]) -> None:
        route, query = request
        url = f"{jp_base_url}nbstudio/api/{route}"
        if query:
            url += "?" + urlencode(query)
        _check(fetch(url), SUITE)

    read()
    # rule: reads create no file or folder and leave the store as it was
    assert files_under(populated.root) == before_files
    assert store_state(db) == before_store


def test_fuzz_compute_actions(
    jp_serverapp, http_server_client, jp_auth_header, jp_base_url, jp_asyncio_loop, populated
) -> None:
    headers = {**dict(jp_auth_header), "Content-Type": "application/json"}
    db = populated.root / ".nbstudio" / "mlflow.db"
    before_store = store_state(db)

    @fuzz_settings(100, share=0.4)
    @given(
        name=st.one_of(st.sampled_from(["local", "cpu"]), TEXT),
        action=st.one_of(st.sampled_from(["start", "stop", "scale", "delete"]), TEXT),
        body=BODIES,
    )
    def act(name: str, action: str, body: str) -> None:
        url = f"{jp_base_url}nbstudio/api/compute/{_seg(name)}/{_seg(action)}"
        future = http_server_client.fetch(
            url,
            method="POST",
            body=body.encode("utf-8", "surrogatepass"),
            headers=headers,
            raise_error=False,
        )
        _check(jp_asyncio_loop.run_until_complete(future), SUITE)

    act()
    # rule: refused actions change nothing in the store
    assert store_state(db) == before_store
