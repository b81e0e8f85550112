"""downsample_minmax: chart-sized histories that keep every bucket's extremes."""

from __future__ import annotations

import math
import random
from types import SimpleNamespace

import pytest

from nbstudio.tracking.downsample import downsample_minmax


@pytest.mark.parametrize("max_points", [2, 3, 10, 11, 2000], ids=lambda n: f"max{n}")
@pytest.mark.parametrize("count", [0, 1, 5, 2001, 100_000], ids=lambda n: f"n{n}")
def test_at_most_max_points_first_and_last_kept(count: int, max_points: int) -> None:
    points = [(i, i * 10, random.random()) for i in range(count)]
    out = downsample_minmax(points, max_points)
    # Rule: never more than max_points, short histories unchanged.
    assert len(out) <= max_points
    if count <= max_points:
        assert out == points
    else:
        # Rule: the first and the last point always survive, order is preserved.
        assert out[0] == points[0]
        assert out[-1] == points[-1]
        assert [p[0] for p in out] == sorted(p[0] for p in out)


def test_spikes_survive() -> None:
    points = [{"step": i, "value": 1.0} for i in range(100_000)]
    points[31_337]["value"] = 1e6
    points[77_777]["value"] = -1e6
    out = downsample_minmax(points, 100)
    values = [p["value"] for p in out]
    # Rule: a single extreme point anywhere is kept (min/max per bucket, not striding).
    assert 1e6 in values
    assert -1e6 in values


def test_every_bucket_contributes_its_min_and_max() -> None:
    # 2 + 8 * 10 points: 4 buckets of 20 middle points each when max_points is 10.
    values = [0.0] + [float(i % 20) for i in range(80)] + [0.0]
    out = downsample_minmax(list(enumerate(values)), 10, value=lambda p: p[1])
    # Rule: each bucket gives exactly its lowest and its highest point.
    assert [v for _, v in out] == [0.0] + [0.0, 19.0] * 4 + [0.0]
    assert len(out) == 10


@pytest.mark.parametrize(
    "make",
    [lambda v: SimpleNamespace(value=v), lambda v: {"value": v}, lambda v: (0, v)],
    ids=["attribute", "mapping", "tuple"],
)
def test_default_value_readers(make) -> None:
    points = [make(v) for v in (0, 1, 9, -9, 2, 0)]
    out = downsample_minmax(points, 4)
    # Rule: the value is read from .value, ["value"] or the last tuple item; the one bucket
    # (4 slots: ends + min + max) keeps the objects themselves, in order.
    assert out == [points[0], points[2], points[3], points[-1]]
    assert all(
        a is b for a, b in zip(out, [points[0], points[2], points[3], points[-1]], strict=True)
    )


def test_nan_never_wins_a_bucket() -> None:
    values = [0.0] + [math.nan, 3.0, math.nan, -2.0, math.nan] + [math.nan] * 5 + [0.0]
    out = downsample_minmax(values, 6, value=float)
    # Rule: NaN is skipped when looking for extremes; an all-NaN bucket keeps one point.
    assert out[1:3] == [3.0, -2.0]
    assert math.isnan(out[3])
    assert len(out) == 5


def test_too_small_max_points_is_refused() -> None:
    # Rule: fewer than 2 points cannot keep both ends.
    with pytest.raises(ValueError, match="at least 2"):
        downsample_minmax([1.0, 2.0, 3.0], 1, value=float)


@pytest.mark.parametrize("max_points", [2, 4, 10, 2000], ids=lambda n: f"max{n}")
def test_x_range_buckets_bound_and_ends(max_points: int) -> None:
    # Irregular steps: dense at the start, sparse later.
    steps = list(range(5000)) + list(range(5000, 1_000_000, 1000))
    points = [(s, random.random()) for s in steps]
    out = downsample_minmax(points, max_points, x=lambda p: p[0])
    # Rule: at most max_points, first and last kept, x order preserved.
    assert len(out) <= max_points
    assert out[0] == points[0]
    assert out[-1] == points[-1]
    assert [p[0] for p in out] == sorted(p[0] for p in out)


def test_x_range_buckets_are_equal_width_not_equal_count() -> None:
    # 1,000 points crowded in steps 0..999 and 10 points spread over 1,000..10,000.
    points = [(s, 0.0) for s in range(1000)] + [(1000 * k, float(k)) for k in range(1, 11)]
    out = downsample_minmax(points, 12, x=lambda p: p[0])
    steps = [p[0] for p in out]
    # Rule: with x, the crowded start is one bucket of a 10,000-step-wide axis cut in 5 parts,
    # so the sparse tail keeps its own extremes rather than being swallowed by equal counts.
    assert 10_000 in steps
    assert {6000, 8000} & set(steps)
    assert len(out) <= 12


def test_x_range_keeps_each_bucket_extremes() -> None:
    # Steps 0..99, 4 buckets of 25 steps (max_points=10); a spike in each bucket.
    values = [0.0] * 100
    for k, (hi, lo) in enumerate([(5, 7), (30, 40), (60, 55), (90, 80)]):
        values[hi] = 10.0 + k
        values[lo] = -10.0 - k
    out = downsample_minmax(list(enumerate(values)), 10, x=lambda p: p[0])
    # Rule: every bucket's max and min survive, plus both ends.
    assert [s for s, _ in out] == [0, 5, 7, 30, 40, 55, 60, 80, 90, 99]
