"""The panel's core queries: same answers as MlflowClient, fast SQL path and client path alike."""

from __future__ import annotations

import math

import pytest

from nbstudio.errors import NotFoundError, QueryError


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store_kind(request: pytest.FixtureRequest) -> str:
    """Every test here runs on the embedded SQLite store and on a PostgreSQL database."""
    return request.param


FILTERS = [
    "",
    "metrics.m0 > 0.5",
    "metrics.m0 >= 0.5 and params.p0 = 'a'",
    "metrics.m2 != 1.0",
    "metrics.m2 = 0",
    "metrics.m1 < 0.3 and tags.team = 'x'",
    "params.p0 != 'a'",
    "params.p1 LIKE '1%'",
    "params.p1 IS NULL",
    "tags.team ILIKE 'y'",
    "tags.team LIKE 'y'",
    "tags.team IS NOT NULL",
    "attributes.status = 'FAILED'",
    "attributes.status != 'FINISHED'",
    "attributes.run_name LIKE 'run-%'",
    "attributes.run_name ILIKE 'RUN%'",
    "run_name = 'run-03'",
    "attributes.start_time > 1700000004000",
    "created <= 1700000002000",
    "attributes.end_time < 1700000003000",
    "datasets.name = 'digits'",  # not translated to SQL: MLflow's own search answers it
]
EMPTY = {"tags.team LIKE 'y'", "datasets.name = 'digits'"}
ORDERS = [
    [],
    ["metrics.m0 DESC"],
    ["metrics.m1 ASC"],
    ["metrics.m2 DESC"],
    ["params.p0", "metrics.m0 DESC"],
    ["tags.team DESC"],
    ["attributes.start_time ASC"],
    ["attributes.run_name"],
    ["attributes.end_time DESC", "params.p1"],
]


def client_pages(client, experiment_ids, filter_string, order_by, page_size):
    """Every page of MlflowClient.search_runs: (run ids, token) per page."""
    from mlflow.entities import ViewType

    pages, token = [], None
    while True:
        page = client.search_runs(
            experiment_ids, filter_string, ViewType.ACTIVE_ONLY, page_size, order_by, token
        )
        token = page.token.decode() if isinstance(page.token, bytes) else page.token
        pages.append(([r.info.run_id for r in page], bool(token)))
        if not token:
            return pages


def our_pages(browse, experiment_ids, filter_string, order_by, page_size, session):
    pages, token = [], None
    while True:
        page = browse.search_runs(
            experiment_ids, filter_string, order_by, page_size, token, session=session
        )
        token = page["next_page_token"]
        pages.append(([r["run_id"] for r in page["runs"]], bool(token)))
        if not token:
            return pages


# Every filter in the default order, every order unfiltered and with a filter.
CASES = (
    [(f, []) for f in FILTERS]
    + [("", o) for o in ORDERS[1:]]
    + [("metrics.m0 > 0.3 and tags.team != 'x'", o) for o in ORDERS[1:]]
)


@pytest.mark.parametrize(
    ("filter_string", "order_by"),
    CASES,
    ids=[f"{f or 'all'}|{','.join(o) or 'default'}" for f, o in CASES],
)
def test_sql_search_equals_mlflow(session, populated, filter_string, order_by) -> None:
    from nbstudio.tracking import browse
    from nbstudio.tracking.readers import run_reader

    # Rule: the fast path is the one under test on the SQL store.
    assert run_reader(session).name == "sql"
    ours = our_pages(browse, [populated.exp_a], filter_string, order_by, 7, session)
    theirs = client_pages(session.client(), [populated.exp_a], filter_string, order_by, 7)
    # Rule: same runs, same order, same pages as MlflowClient.search_runs (our tokens are opaque).
    assert ours == theirs
    # Rule: LIKE is case-sensitive (ILIKE is not) and no run has datasets: only those are empty.
    assert (sum(len(ids) for ids, _ in ours) == 0) == (filter_string in EMPTY)


def test_summaries_equal_mlflow_runs(session, populated) -> None:
    from nbstudio.tracking import browse
    from nbstudio.tracking.clientreader import record_of

    page = browse.search_runs([populated.exp_a], page_size=50, session=session)
    theirs = session.client().search_runs([populated.exp_a], max_results=50)
    expected = [browse.run_summary(record_of(r, browse.SUMMARY_TAGS)) for r in theirs]
    # Rule: params, latest metrics (NaN as null), names, parents, durations as MLflow reads them.
    assert page["runs"] == expected
    nan_run = next(r for r in page["runs"] if "m2" in r["metrics"] and r["metrics"]["m2"] is None)
    assert nan_run["metrics"]["m2"] is None
    # Rule: the deleted run is never listed.
    assert populated.deleted not in {r["run_id"] for r in page["runs"]}


def test_primary_metric_tag_then_alphabetical(session, populated) -> None:
    from nbstudio.tracking import browse

    runs = {r["run_id"]: r for r in browse.search_runs([populated.exp_a], page_size=50)["runs"]}
    tagged = runs[populated.runs[7]]  # i % 7 == 0: tagged nbstudio.primary_metric=m1
    plain = runs[populated.runs[1]]
    # Rule: the tag names the primary metric; otherwise the first metric key alphabetically.
    assert tagged["primary_metric"]["key"] == "m1"
    assert tagged["primary_metric"]["value"] == tagged["metrics"]["m1"]
    assert plain["primary_metric"] == {"key": "m0", "value": plain["metrics"]["m0"]}


@pytest.mark.parametrize(
    ("filter_string", "order_by", "message"),
    [
        ("metrics.m0 >>> 1", [], "Invalid filter"),
        ("bogus.x = 1", [], "Invalid filter"),
        ("metrics.m0 LIKE 'a'", [], "Invalid filter"),
        ("params.p0 = 'a' OR params.p0 = 'b'", [], "Invalid filter"),
        ("attributes.status IN ('FAILED')", [], "Invalid filter"),
        ("", ["metrics.m0 SIDEWAYS"], "ordered by"),
        ("", ["metrics.m0", "metrics.m0 DESC"], "ordered by"),
    ],
    ids=[
        "operator",
        "entity",
        "comparator",
        "or",
        "status-in",
        "order-direction",
        "order-duplicate",
    ],
)
def test_bad_search_is_a_query_error(session, populated, filter_string, order_by, message) -> None:
    from nbstudio.tracking import browse

    # Rule: a bad filter or order is one clear QueryError, never an MLflow traceback.
    with pytest.raises(QueryError, match=message):
        browse.search_runs([populated.exp_a], filter_string, order_by, session=session)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"page_size": 0}, QueryError),
        ({"page_size": 501}, QueryError),
        ({"page_token": "not-base64!"}, QueryError),
        ({"experiment_ids": ["424242"]}, NotFoundError),
        ({"experiment_ids": ["abc"]}, NotFoundError),
    ],
    ids=["page-size-0", "page-size-501", "token", "unknown-experiment", "non-numeric-experiment"],
)
def test_bad_paging_and_ids(session, populated, kwargs, error) -> None:
    from nbstudio.tracking import browse

    kwargs.setdefault("experiment_ids", [populated.exp_a])
    # Rule: bad paging is a 400-type error, an unknown experiment a 404-type error.
    with pytest.raises(error):
        browse.search_runs(session=session, **kwargs)


def test_client_path_equals_sql_path(session, populated) -> None:
    """A tracking server is read through MlflowClient: same answers as the SQL path."""
    from nbstudio.tracking import browse, readers
    from nbstudio.tracking.clientreader import ClientReader

    assert readers.run_reader(session).name == "sql"

    sql = {
        "experiments": browse.list_experiments(session),
        "page": browse.search_runs([populated.exp_a], "metrics.m0 > 0.3", ["metrics.m1 DESC"]),
        "run": browse.get_run(populated.parent, session),
        "history": browse.metric_history(populated.history, "train/loss", 100, session),
        "flat": browse.metric_history(populated.history, "plain", 20, session),
    }
    readers.use(session, ClientReader(session.client()))
    try:
        client = {
            "experiments": browse.list_experiments(session),
            "page": browse.search_runs([populated.exp_a], "metrics.m0 > 0.3", ["metrics.m1 DESC"]),
            "run": browse.get_run(populated.parent, session),
            "history": browse.metric_history(populated.history, "train/loss", 100, session),
            "flat": browse.metric_history(populated.history, "plain", 20, session),
        }
    finally:
        readers.use(session, readers.choose(session.client()))
    # Rule: both backends give the same JSON for the same store.
    assert sql == client


def test_experiments_counts_and_activity(session, populated) -> None:
    from nbstudio.tracking import browse

    rows = {e["name"]: e for e in browse.list_experiments(session)["experiments"]}
    # Rule: active runs only are counted; last activity is the newest start/end time.
    assert rows["exp-a"]["run_count"] == 36
    assert rows["exp-b"]["run_count"] == 6
    assert rows["exp-a"]["last_activity"] == max(
        r.info.end_time or r.info.start_time
        for r in session.client().search_runs([populated.exp_a], max_results=100)
    )
    names = [e["name"] for e in browse.list_experiments(session)["experiments"]]
    # Rule: newest activity first (exp-b holds the tracked run, made last).
    assert names[0] == "exp-b"


def test_metric_history_sql_equals_python_downsampling(session, populated) -> None:
    from nbstudio.tracking.downsample import downsample_minmax
    from nbstudio.tracking.readers import run_reader

    reader = run_reader(session)
    assert reader.name == "sql"
    full = reader.metric_points(populated.history, "train/loss")
    for max_points in (10, 11, 100, 2000):
        total, points = reader.metric_history(populated.history, "train/loss", max_points)
        expected = downsample_minmax(full, max_points, value=lambda p: p[2], x=lambda p: p[0])
        # Rule: SQLite's per-bucket picks are exactly the pure function's points.
        assert total == 5000
        assert len(points) <= max_points
        assert [(s, t) for s, t, _ in points] == [(s, t) for s, t, _ in expected]


def test_metric_history_api_shape(session, populated) -> None:
    from nbstudio.tracking import browse

    out = browse.metric_history(populated.history, "train/loss", 10, session)
    # Rule: at most max_points, first and last steps kept, the total reported.
    assert out["total_points"] == 5000
    assert out["downsampled"] is True
    assert len(out["points"]) <= 10
    assert out["points"][0]["step"] == 0
    assert out["points"][-1]["step"] == 4999
    short = browse.metric_history(populated.history, "train/loss", 10_000, session)
    # Rule: a short enough history comes whole; the NaN point is null in JSON.
    assert short["downsampled"] is False
    assert len(short["points"]) == 5000
    assert short["points"][777]["value"] is None
    assert all(math.isfinite(p["value"]) for i, p in enumerate(short["points"]) if i != 777)


def test_metric_history_at_one_step_is_cut_by_time(session, populated) -> None:
    from nbstudio.tracking import browse

    out = browse.metric_history(populated.history, "plain", 20, session)
    times = [p["timestamp"] for p in out["points"]]
    # Rule: a history logged without steps is cut by time: ends kept, extremes 0 and 16 kept.
    assert out["total_points"] == 300
    assert len(out["points"]) <= 20
    assert times == sorted(times)
    assert times[0] == 1_700_000_000_000  # conftest's T0: the first point
    assert times[-1] == 1_700_000_000_000 + 10 * 299
    assert {0.0, 16.0} <= {p["value"] for p in out["points"]}


def test_metric_history_unknown_run_and_key(session, populated) -> None:
    from nbstudio.tracking import browse

    # Rule: an unknown run is a NotFoundError; an unknown key of a real run is empty.
    with pytest.raises(NotFoundError):
        browse.metric_history("0" * 32, "loss", 100, session)
    empty = browse.metric_history(populated.history, "nope", 100, session)
    assert empty == {"key": "nope", "total_points": 0, "downsampled": False, "points": []}
