/**
 * Pure logic of the compare view: which params and metrics to show, and how to turn them into
 * parallel-coordinates dimensions that stay readable with a thousand runs.
 */

import { formatValue } from './format';

/** The part of a run the compare view reads. */
export interface IComparable {
  run_id: string;
  params: Record<string, string>;
  metrics: Record<string, number>;
  primary_metric: { key: string; value: number } | null;
  /** The run this one is nested in (a sweep's trial has its sweep's run here). */
  parent_run_id?: string | null;
}

/** A column of the compare table. */
export interface IColumn {
  kind: 'param' | 'metric';
  key: string;
  /** Whether the runs disagree on it (constant columns can be hidden). */
  differs: boolean;
}

function differs(values: (string | number | undefined)[]): boolean {
  return (
    new Set(values.map(v => (v === undefined ? '\u0000' : String(v)))).size > 1
  );
}

/** Every param and metric key of the runs (params first, each sorted), with whether it varies. */
export function compareColumns(runs: readonly IComparable[]): IColumn[] {
  const paramKeys = new Set<string>();
  const metricKeys = new Set<string>();
  for (const run of runs) {
    Object.keys(run.params).forEach(k => paramKeys.add(k));
    Object.keys(run.metrics).forEach(k => metricKeys.add(k));
  }
  const columns: IColumn[] = [];
  for (const key of [...paramKeys].sort()) {
    columns.push({
      kind: 'param',
      key,
      differs: differs(runs.map(r => r.params[key]))
    });
  }
  for (const key of [...metricKeys].sort()) {
    columns.push({
      kind: 'metric',
      key,
      differs: differs(runs.map(r => r.metrics[key]))
    });
  }
  return columns;
}

/** One axis of a plotly parcoords trace. */
export interface IDimension {
  label: string;
  values: number[];
  range?: [number, number];
  tickvals?: number[];
  ticktext?: string[];
}

/** Text of the tick where runs that lack the value are drawn, apart from the data's range. */
export const MISSING_LABEL = 'missing';

/** Share of an axis's data span left empty between the data and the "missing" tick. */
const MISSING_GAP = 0.15;

function asNumber(text: string | undefined): number | null {
  if (text === undefined || text.trim() === '') {
    return null;
  }
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

/**
 * About ``count`` round tick values (1, 2 or 5 times a power of ten apart) inside [lo, hi],
 * never outside it: an axis only labels values its runs span.
 */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) {
    return [lo];
  }
  const raw = (hi - lo) / count;
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step =
    [1, 2, 5, 10].map(m => m * power).find(s => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  const digits = Math.max(0, -Math.floor(Math.log10(step)));
  for (let i = Math.ceil(lo / step); i * step <= hi + step * 1e-9; i++) {
    const tick = Number((i * step).toFixed(Math.min(20, digits)));
    if (tick >= lo - step * 1e-9 && tick <= hi + step * 1e-9) {
      ticks.push(tick);
    }
  }
  return ticks;
}

/**
 * Range and ticks of an axis over values that are all present. The range is the data's
 * (a constant axis gets a sliver around its one value and a single tick), the ticks are labelled
 * with ``label`` (their value by default); runs missing the value (``missing`` of them) get
 * their own tick, "missing", below a gap, so no line is drawn through a value it does not have.
 */
function axis(
  label: string,
  values: (number | null)[],
  ticks: (lo: number, hi: number) => { tickvals: number[]; ticktext: string[] }
): IDimension {
  const present = values.filter(
    (v): v is number => v !== null && Number.isFinite(v)
  );
  let lo = present.length ? Math.min(...present) : 0;
  let hi = present.length ? Math.max(...present) : 0;
  const { tickvals, ticktext } = present.length
    ? ticks(lo, hi)
    : { tickvals: [], ticktext: [] };
  if (lo === hi) {
    const sliver = Math.abs(lo) * 1e-6 || 1e-6;
    lo -= sliver;
    hi += sliver;
  }
  if (present.length === values.length) {
    return {
      label,
      values: values as number[],
      range: [lo, hi],
      tickvals,
      ticktext
    };
  }
  const missing = present.length ? lo - (hi - lo) * MISSING_GAP : 0;
  return {
    label,
    values: values.map(v => (v === null || !Number.isFinite(v) ? missing : v)),
    range: present.length ? [missing, hi] : [-1, 1],
    tickvals: [missing, ...tickvals],
    ticktext: [MISSING_LABEL, ...ticktext]
  };
}

/** A numeric axis over the data's own range; runs missing the value on a "missing" tick. */
export function numericDimension(
  label: string,
  values: (number | null)[]
): IDimension {
  return axis(label, values, (lo, hi) => {
    const tickvals = niceTicks(lo, hi);
    return { tickvals, ticktext: tickvals.map(v => formatValue(v)) };
  });
}

/** Decades a positive numeric axis must span before it is drawn on a log scale. */
export const LOG_DECADES = 3;

/**
 * A numeric axis on a log10 scale (plotly's parcoords has no log axes): values become their
 * log10, ticks sit on whole decades and are labelled with the original numbers ("1e-4").
 * Null when the values are not all positive or span fewer than ``LOG_DECADES`` decades.
 */
export function logDimension(
  label: string,
  values: (number | null)[]
): IDimension | null {
  const present = values.filter(
    (v): v is number => v !== null && Number.isFinite(v)
  );
  if (present.length < 2 || present.some(v => v <= 0)) {
    return null;
  }
  const lo = Math.log10(Math.min(...present));
  const hi = Math.log10(Math.max(...present));
  if (hi - lo < LOG_DECADES) {
    return null;
  }
  return axis(
    `${label} (log)`,
    values.map(v => (v === null || !Number.isFinite(v) ? null : Math.log10(v))),
    (low, high) => {
      const tickvals: number[] = [];
      for (let d = Math.ceil(low); d <= Math.floor(high); d++) {
        tickvals.push(d);
      }
      return { tickvals, ticktext: tickvals.map(d => `1e${d}`) };
    }
  );
}

/**
 * A categorical axis: each distinct text a tick, in sorted order; runs without the param on a
 * "missing" tick below them.
 */
export function categoricalDimension(
  label: string,
  values: (string | undefined)[]
): IDimension {
  const categories = [
    ...new Set(values.filter((v): v is string => v !== undefined))
  ].sort();
  const index = new Map(categories.map((c, i) => [c, i]));
  const hasMissing = values.some(v => v === undefined);
  const bottom = hasMissing ? -1 : 0;
  return {
    label,
    values: values.map(v => (v === undefined ? -1 : (index.get(v) as number))),
    range: [bottom, Math.max(bottom + 1, categories.length - 1)],
    tickvals: [...(hasMissing ? [-1] : []), ...categories.map((_, i) => i)],
    ticktext: [...(hasMissing ? [MISSING_LABEL] : []), ...categories]
  };
}

/**
 * The runs a comparison is about: a run whose children are also in the set (a sweep's parent,
 * a cell with nested runs) is left out, since its trials are what is compared and it has none
 * of their params.
 */
export function comparedRuns<T extends IComparable>(
  runs: readonly T[]
): { runs: T[]; parents: T[] } {
  const parentIds = new Set(
    runs.map(r => r.parent_run_id).filter((id): id is string => !!id)
  );
  return {
    runs: runs.filter(r => !parentIds.has(r.run_id)),
    parents: runs.filter(r => parentIds.has(r.run_id))
  };
}

/** Most axes drawn, so the chart stays legible. */
export const MAX_DIMENSIONS = 16;

/**
 * The parcoords axes for these runs: every param that varies (numeric when all present values
 * parse as numbers, categorical otherwise), then every metric, at most ``MAX_DIMENSIONS``; the
 * colour axis is the primary metric when the runs share one.
 */
export function parallelDimensions(runs: readonly IComparable[]): {
  dimensions: IDimension[];
  colorKey: string | null;
  colors: number[];
} {
  const columns = compareColumns(runs);
  const dimensions: IDimension[] = [];
  for (const column of columns) {
    if (dimensions.length >= MAX_DIMENSIONS) {
      break;
    }
    if (column.kind === 'param') {
      if (!column.differs && runs.length > 1) {
        continue;
      }
      const texts = runs.map(r => r.params[column.key]);
      const numbers = texts.map(asNumber);
      const numeric = texts.every(
        (t, i) => t === undefined || numbers[i] !== null
      );
      dimensions.push(
        numeric
          ? (logDimension(column.key, numbers) ??
              numericDimension(column.key, numbers))
          : categoricalDimension(column.key, texts)
      );
    } else {
      dimensions.push(
        numericDimension(
          column.key,
          runs.map(r =>
            column.key in r.metrics ? r.metrics[column.key] : null
          )
        )
      );
    }
  }
  const primaryKeys = new Set(runs.map(r => r.primary_metric?.key ?? ''));
  const colorKey = primaryKeys.size === 1 ? [...primaryKeys][0] || null : null;
  const raw = runs.map(r => (colorKey ? r.metrics[colorKey] : undefined));
  const present = raw.filter(
    (v): v is number => v !== undefined && Number.isFinite(v)
  );
  const fallback = present.length ? Math.min(...present) : 0;
  const colors = raw.map(v =>
    v !== undefined && Number.isFinite(v) ? v : fallback
  );
  return { dimensions, colorKey, colors };
}
