"""Shrink a long metric history to a chart-sized one without hiding its spikes.

A chart 1,000 pixels wide cannot show 100,000 points, and shipping them all to the browser makes
the panel slow. Keeping only the minimum and the maximum of each bucket of consecutive points
keeps the envelope a reader cares about (a loss spike or a divergence stays visible), which plain
striding or averaging would hide.
"""

from __future__ import annotations

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
) -> list[T]:
    """At most ``max_points`` of ``points`` (in their order): first, last, and min/max per bucket.

    ``points`` are kept as given (dicts, tuples, MLflow ``Metric`` objects...); ``value`` reads a
    point's y value (default: ``point["value"]``, ``point.value`` or ``point[-1]``). The points
    between the first and the last are cut into ``(max_points - 2) // 2`` buckets of consecutive
    points; each bucket gives its minimum and its maximum (one point if they are the same). NaN
    values never win a bucket unless the whole bucket is NaN. A history already short enough is
    returned unchanged (as a new list).
    """
    if max_points < 2:
        raise ValueError(f"max_points must be at least 2, got {max_points}")
    count = len(points)
    if count <= max_points:
        return list(points)
    values = list(map(value or _value_reader(points[0]), points))
    middle = count - 2
    buckets = (max_points - 2) // 2
    kept = [0]
    for i in range(buckets):
        lo = 1 + i * middle // buckets
        hi = 1 + (i + 1) * middle // buckets
        if lo >= hi:
            continue
        segment = values[lo:hi]
        if any(map(isnan, segment)):  # min/max with NaN depend on order: leave NaN out
            finite = [(v, j) for j, v in enumerate(segment, lo) if not isnan(v)]
            if not finite:  # all NaN: keep one point to show the gap
                kept.append(lo)
                continue
            low, high = min(finite)[1], max(finite)[1]
        else:
            low = lo + segment.index(min(segment))
            high = lo + segment.index(max(segment))
        if low == high:
            kept.append(low)
        else:
            kept.extend(sorted((low, high)))
    kept.append(count - 1)
    return [points[j] for j in kept]


__all__ = ["downsample_minmax"]
