/**
 * Client-side min/max downsampling of a metric series before it is drawn.
 *
 * The server already caps a history at ``max_points``; the charts ask for a generous number and
 * then reduce it to about two points per horizontal pixel here, so a narrow chart redrawn every
 * two seconds for a RUNNING run stays cheap. Min/max per bucket (rather than averaging) keeps
 * spikes visible, the same rule as the server's.
 */

/** One point of a metric history. */
export interface ISeriesPoint {
  step: number;
  value: number;
}

/**
 * At most ``maxPoints`` points of ``points`` (assumed ordered by step): the first and last points,
 * and the minimum and maximum of each bucket of consecutive points, in their original order.
 */
export function downsampleMinMax<T extends ISeriesPoint>(
  points: readonly T[],
  maxPoints: number
): T[] {
  const limit = Math.max(2, Math.floor(maxPoints));
  if (points.length <= limit) {
    return points.slice();
  }
  const first = points[0];
  const last = points[points.length - 1];
  const inner = points.slice(1, -1);
  const buckets = Math.max(1, Math.floor((limit - 2) / 2));
  const out: T[] = [first];
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor((b * inner.length) / buckets);
    const end = Math.floor(((b + 1) * inner.length) / buckets);
    if (end <= start) {
      continue;
    }
    let lo = start;
    let hi = start;
    for (let i = start + 1; i < end; i++) {
      if (inner[i].value < inner[lo].value) {
        lo = i;
      }
      if (inner[i].value > inner[hi].value) {
        hi = i;
      }
    }
    if (lo === hi) {
      out.push(inner[lo]);
    } else {
      out.push(inner[Math.min(lo, hi)], inner[Math.max(lo, hi)]);
    }
  }
  out.push(last);
  return out;
}
