"""Traffic rules of endpoints, as pure functions: weights, mirroring, validation, rescaling."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from nbstudio.endpoints.errors import EndpointError
from nbstudio.endpoints.routing import (
    MirrorCounter,
    WeightedRoundRobin,
    check_mirror,
    check_traffic,
    parse_weights,
    share,
)


@pytest.mark.parametrize(
    "weights",
    [{"blue": 90, "green": 10}, {"blue": 50, "green": 50}, {"a": 33, "b": 33, "c": 34}],
    ids=["90-10", "50-50", "three-way"],
)
def test_round_robin_gives_exact_shares_per_hundred(weights):
    router = WeightedRoundRobin(weights)
    counts = Counter(router.pick() for _ in range(1000))
    # Rule: every deployment gets exactly its percentage of each 100 requests.
    assert counts == Counter({name: 10 * w for name, w in weights.items()})


def test_round_robin_interleaves_instead_of_bursting():
    router = WeightedRoundRobin({"blue": 90, "green": 10})
    picks = [router.pick() for _ in range(100)]
    positions = [i for i, name in enumerate(picks) if name == "green"]
    # Rule: the 10 % deployment is spread out, not served 10 times in a row.
    assert max(b - a for a, b in itertools.pairwise(positions)) <= 11


def test_round_robin_skips_deployments_that_cannot_answer():
    router = WeightedRoundRobin({"blue": 80, "green": 20, "red": 0})
    counts = Counter(router.pick(available={"green", "red"}) for _ in range(50))
    # Rule: a deployment that is down is left out; zero-weight ones never get live traffic.
    assert counts == Counter({"green": 50})
    # Rule: nothing available means no pick (the endpoint answers 503).
    assert router.pick(available=set()) is None


@pytest.mark.parametrize("percent", [0, 10, 25, 50], ids=["0", "10", "25", "50"])
def test_mirror_counter_copies_exactly_the_percentage(percent):
    counter = MirrorCounter(percent)
    # Rule: exactly N of every 100 requests are mirrored.
    assert sum(counter() for _ in range(400)) == 4 * percent


def test_parse_weights_reads_the_command_line_form():
    # Rule: DEPLOYMENT=PERCENT pairs become a dict; a trailing % is allowed.
    assert parse_weights(["blue=90", "green=10%"]) == {"blue": 90, "green": 10}


@pytest.mark.parametrize("item", ["blue", "blue=", "=10", "blue=ten", "blue=-5"])
def test_parse_weights_rejects_malformed_items(item):
    # Rule: a malformed item is a one-line user error naming the expected form.
    with pytest.raises(EndpointError, match="DEPLOYMENT=PERCENT"):
        parse_weights([item])


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"blue": 90, "green": 20}, "add up to 100"),
        ({"blue": 90}, "add up to 100"),
        ({"purple": 100}, "no deployment named 'purple'"),
        ({"blue": 120, "green": -20}, "between 0 and 100"),
    ],
    ids=["over-100", "under-100", "unknown", "out-of-range"],
)
def test_check_traffic_rejects_bad_weights(weights, message):
    # Rule: live traffic names existing deployments and adds up to exactly 100 %.
    with pytest.raises(EndpointError, match=message):
        check_traffic(weights, ["blue", "green"])


def test_check_traffic_fills_unnamed_deployments_with_zero():
    # Rule: deployments left out of a traffic command get 0 %.
    assert check_traffic({"green": 100}, ["blue", "green"]) == {"blue": 0, "green": 100}


@pytest.mark.parametrize(
    ("mirror", "message"),
    [
        ({"green": 60}, "between 0 and 50"),
        ({"blue": 10}, "cannot also receive mirrored"),
        ({"green": 10, "red": 10}, "Only one deployment"),
    ],
    ids=["too-much", "live-deployment", "two-targets"],
)
def test_check_mirror_follows_azure_rules(mirror, message):
    traffic = {"blue": 100, "green": 0, "red": 0}
    # Rule: one mirror target, at most 50 %, taking no live traffic itself.
    with pytest.raises(EndpointError, match=message):
        check_mirror(mirror, traffic, traffic)


def test_check_mirror_drops_zero_entries():
    # Rule: mirror green=0 switches mirroring off.
    assert check_mirror({"green": 0}, {"blue": 100, "green": 0}, ["blue", "green"]) == {}


@pytest.mark.parametrize(
    ("traffic", "name", "percent", "expected"),
    [
        ({"blue": 100}, "green", 10, {"blue": 90, "green": 10}),
        ({"blue": 50, "red": 50}, "green", 10, {"blue": 45, "red": 45, "green": 10}),
        ({"blue": 90, "green": 10}, "green", 100, {"blue": 0, "green": 100}),
        ({"blue": 34, "red": 33, "green": 33}, "green", 0, {"blue": 51, "red": 49, "green": 0}),
        ({}, "blue", 100, {"blue": 100}),
    ],
    ids=["blue-green", "three", "all-in", "rounding", "first"],
)
def test_share_rescales_the_others_to_the_rest(traffic, name, percent, expected):
    result = share(traffic, name, percent)
    # Rule: the named deployment gets its share; the others keep their proportions; total 100.
    assert result == expected
    assert sum(result.values()) == 100


def test_share_refuses_a_total_below_100():
    # Rule: the first deployment cannot take less than everything (nothing takes the rest).
    with pytest.raises(EndpointError, match="no other deployment"):
        share({}, "blue", 50)
