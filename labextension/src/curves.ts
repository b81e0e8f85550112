/**
 * Pure logic of the overlaid metric curves in compare: which metrics get a chart and which runs
 * a curve, bounded so a compare of a thousand runs stays quick.
 */

import type { IComparable } from './comparison';

/** Most runs drawn as curves, and most metrics charted. */
export const MAX_CURVE_RUNS = 12;
export const MAX_CURVE_METRICS = 8;

export interface ICurvePlan<T> {
  /** Metric keys charted, sorted. */
  keys: string[];
  /** Runs drawn, in the order given. */
  runs: T[];
  omittedRuns: number;
  omittedKeys: number;
}

/** The metrics the runs share at least one of, and the first ``MAX_CURVE_RUNS`` runs with any. */
export function curvePlan<T extends IComparable>(
  runs: readonly T[]
): ICurvePlan<T> {
  const withMetrics = runs.filter(r => Object.keys(r.metrics).length > 0);
  const drawn = withMetrics.slice(0, MAX_CURVE_RUNS);
  const keys = new Set<string>();
  drawn.forEach(r => Object.keys(r.metrics).forEach(k => keys.add(k)));
  const sorted = [...keys].sort();
  return {
    keys: sorted.slice(0, MAX_CURVE_METRICS),
    runs: drawn,
    omittedRuns: withMetrics.length - drawn.length,
    omittedKeys: Math.max(0, sorted.length - MAX_CURVE_METRICS)
  };
}
