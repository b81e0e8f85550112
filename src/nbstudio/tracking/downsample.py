"""Shrink a long metric history to a chart-sized one without hiding its spikes.

A chart 1,000 pixels wide cannot show 100,000 points, and shipping them all to the browser makes
the panel slow. Keeping only the minimum and the maximum of each bucket of consecutive points
keeps the envelope a reader cares about (a loss spike or a divergence stays visible), which plain
striding or averaging would hide.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from math import isnan
from operator import attrgetter, itemgetter
from typing import Any, TypeVar

T = TypeVar("T")


def _value_reader(first: Any) -> Callable[[Any], float]:
    """How to read a point's y value, chosen once from the first point (C-speed getters)."""
    if isinstance(first, Mapping):
        return itemgetter("value")
    if isinstance(first, tuple | list):
        return itemgetter(-1)
    return attrgetter("value")


def downsample_minmax(
    points: Sequence[T],
    max_points: int,
    value: Callable[[T], float] | None = None,
    x: Callable[[T], int] | None = None,
) -> list[T]:
    """At most ``max_points`` of ``points`` (in their order): first, last, and min/max per bucket.

    ``points`` are kept as given (dicts, tuples, MLflow ``Metric`` objects...); ``value`` reads a
    point's y value (default: ``point["value"]``, ``point.value`` or ``point[-1]``). There are
    ``(max_points - 2) // 2`` buckets; each gives its minimum and its maximum (one point if they
    are the same, the earliest point on ties). Without ``x`` the points between the first and the
    last are cut into buckets of equal counts. With ``x`` (an integer position such as the step,
    ``points`` sorted by it) all points are cut into buckets of equal x width, as a chart's pixels
    cut its axis: this is what the SQL path of the panel computes in the database. NaN values
    never win a bucket unless the whole bucket is NaN. A history already short enough is returned
    unchanged (as a new list).
    """
    if max_points < 2:
        raise ValueError(f"max_points must be at least 2, got {max_points}")
    count = len(points)
    if count <= max_points:
        return list(points)
    values = list(map(value or _value_reader(points[0]), points))
    if x is not None:
        return _by_x_range(points, values, list(map(x, points)), (max_points - 2) // 2)
    middle = count - 2
    buckets = (max_points - 2) // 2
    kept = [0]
    for i in range(buckets):
        lo = 1 + i * middle // buckets
        hi = 1 + (i + 1) * middle // buckets
        if lo >= hi:
            continue
        kept.extend(_extremes(values, lo, hi))
    kept.append(count - 1)
    return [points[j] for j in kept]


def _extremes(values: list[float], lo: int, hi: int) -> list[int]:
    """Indexes of the min and max of ``values[lo:hi]`` in order (one if equal), NaN left out."""
    segment = values[lo:hi]
    if any(map(isnan, segment)):  # min/max with NaN depend on order: leave NaN out
        finite = [(v, j) for j, v in enumerate(segment, lo) if not isnan(v)]
        if not finite:  # all NaN: keep one point to show the gap
            return [lo]
        low = min(finite)[1]
        high = max(finite, key=lambda pair: (pair[0], -pair[1]))[1]
    else:
        low = lo + segment.index(min(segment))
        high = lo + segment.index(max(segment))
    if low == high:
        return [low]
    return sorted((low, high))


def _by_x_range(points: Sequence[T], values: list[float], xs: list[int], buckets: int) -> list[T]:
    """First, last, and the extremes of each of ``buckets`` equal-width ranges of x."""
    first, span = xs[0], xs[-1] - xs[0] + 1
    kept = {0, len(xs) - 1}
    if buckets > 0:
        # Bucket of a point: (x - first) * buckets // span, so bucket k starts at the first x
        # >= first + ceil(k * span / buckets).
        starts = [bisect_left(xs, first - (-k * span // buckets)) for k in range(buckets)]
        starts.append(len(xs))
        for lo, hi in itertools.pairwise(starts):
            if lo < hi:
                kept.update(_extremes(values, lo, hi))
    return [points[j] for j in sorted(kept)]


__all__ = ["downsample_minmax"]
