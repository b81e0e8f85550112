"""One metric's history as a live chart holds it: every point, and a chart-sized view of them.

A chart redrawn four times a second cannot re-downsample 100,000 points each time without taking
CPU from the training loop it watches. Min/max downsampling of consecutive buckets has a useful
property: downsampling the first ``n0`` points once, and the points logged since on their own with
the same points-per-bucket budget, draws the same envelope at the same density as downsampling
everything. So the view is ``downsample_minmax(points[:n0])`` (kept) plus a downsample of the tail
(redone per refresh), and everything is downsampled afresh only when the tail has grown to an
eighth of ``n0``: a refresh costs O(tail), and a trace never holds more than ~1.125 x
``max_points`` points.
"""

from __future__ import annotations

import bisect
import itertools

import numpy as np

from nbstudio.tracking.changes import MetricPoint
from nbstudio.tracking.downsample import downsample_minmax

#: Re-downsample everything once the new tail is this fraction of the part already downsampled.
REBUILD_FRACTION = 8


class MetricSeries:
    """The points of one metric, sorted by x (step, or time), and their downsampled view."""

    def __init__(self, key: str, max_points: int = 2000) -> None:
        if max_points < 10:
            raise ValueError(f"max_points must be at least 10, got {max_points}")
        self.key = key
        self.max_points = max_points
        self.points: list[MetricPoint] = []
        self.uses_steps = False
        self._head: list[MetricPoint] = []  # downsample of points[:_head_n]
        self._head_n = 0
        self._view: list[MetricPoint] | None = None
        self._max_step = 0

    def __len__(self) -> int:
        return len(self.points)

    def _order(self, point: MetricPoint) -> tuple[int, int]:
        step, timestamp, _ = point
        return (step, timestamp) if self.uses_steps else (timestamp, step)

    def extend(self, points: list[MetricPoint]) -> None:
        """Add points in the order they reached the store; the series stays sorted by x.

        MLflow's asynchronous logging commits batches from a thread pool, so a batch can land
        before an earlier one: such points are merged in place (a near-sorted sort is linear),
        and the kept downsample is redone if they fall inside it.
        """
        if not points:
            return
        start = len(self.points)
        self.points.extend(points)
        self._max_step = max(self._max_step, max(step for step, _, _ in points))
        self._view = None
        if not self.uses_steps and any(step != 0 for step, _, _ in points):
            self.uses_steps = True  # x switches from time to steps: everything reorders
            self.points.sort(key=self._order)
            self._head_n = 0
            return
        order = self._order
        tail = self.points[max(0, start - 1) :]
        if all(order(a) <= order(b) for a, b in itertools.pairwise(tail)):
            return
        # Re-sort only from where the earliest new point belongs (usually near the end).
        earliest = min(map(order, points))
        at = bisect.bisect_right(self.points, earliest, hi=start, key=order)
        self.points[at:] = sorted(self.points[at:], key=order)
        if at < self._head_n:
            self._head_n = 0

    @property
    def last(self) -> MetricPoint | None:
        return self.points[-1] if self.points else None

    def visible(self) -> list[MetricPoint]:
        """The points to draw: all of them, or a min/max downsample of ~``max_points``."""
        if self._view is not None:
            return self._view
        count = len(self.points)
        if count <= self.max_points:
            self._view = self.points
        elif not self._head_n or (count - self._head_n) * REBUILD_FRACTION > self._head_n:
            self._head = downsample_minmax(self.points, self.max_points)
            self._head_n = count
            self._view = self._head
        else:
            tail = self.points[self._head_n :]
            budget = max(2, self.max_points * len(tail) // self._head_n)
            self._view = self._head + downsample_minmax(tail, budget)
        return self._view

    @property
    def by_step(self) -> bool:
        """Drawn against steps: steps were logged, or there is one point (a lone point at step 0
        is a step; MLflow's default step 0 means "no step" only once there are several)."""
        return self.uses_steps or len(self.points) == 1

    @property
    def max_step(self) -> int:
        return self._max_step

    def xy(self, start_ms: int | None) -> tuple[np.ndarray, np.ndarray]:
        """The view as float arrays: x is the step, or seconds since ``start_ms`` without steps.

        Non-finite values become NaN (a gap in the line): JSON has no infinity.
        """
        view = self.visible()
        if not view:
            return np.empty(0), np.empty(0)
        table = np.array(view, dtype=np.float64)  # columns: step, timestamp, value
        if self.by_step:
            x = table[:, 0]
        else:
            origin = start_ms if start_ms is not None else table[0, 1]
            x = (table[:, 1] - origin) / 1000
        y = table[:, 2]
        y[~np.isfinite(y)] = np.nan
        return np.ascontiguousarray(x), np.ascontiguousarray(y)

    @property
    def x_title(self) -> str:
        return "step" if self.by_step else "time (s)"


def step_tick(max_step: int) -> int:
    """A whole-number tick spacing for a step axis up to ``max_step`` (at most ~8 ticks):
    plotly's own choice puts ticks at 2.5 and 7.5 for steps 0..10."""
    for exponent in range(15):
        for mantissa in (1, 2, 5):
            spacing = mantissa * 10**exponent
            if max_step / spacing <= 8:
                return spacing
    return 10**15
