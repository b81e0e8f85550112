/**
 * Pure logic of the compare view: which params and metrics to show, and how to turn them into
 * parallel-coordinates dimensions that stay readable with a thousand runs.
 */

/** The part of a run the compare view reads. */
export interface IComparable {
  run_id: string;
  params: Record<string, string>;
  metrics: Record<string, number>;
  primary_metric: { key: string; value: number } | null;
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

/** Text shown on an axis for a run that lacks the value. */
export const MISSING_LABEL = '(none)';

function asNumber(text: string | undefined): number | null {
  if (text === undefined || text.trim() === '') {
    return null;
  }
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

/**
 * A numeric axis. Runs missing the value sit on a tick labelled "(none)" just below the range,
 * so they are still drawn (plotly drops lines through NaN).
 */
export function numericDimension(
  label: string,
  values: (number | null)[]
): IDimension {
  const present = values.filter(
    (v): v is number => v !== null && Number.isFinite(v)
  );
  let lo = present.length ? Math.min(...present) : 0;
  let hi = present.length ? Math.max(...present) : 1;
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  if (present.length === values.length) {
    return { label, values: values as number[], range: [lo, hi] };
  }
  const missing = lo - (hi - lo) * 0.1;
  return {
    label,
    values: values.map(v => (v === null || !Number.isFinite(v) ? missing : v)),
    range: [missing, hi]
  };
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
  const dim = numericDimension(
    label,
    values.map(v => (v === null || !Number.isFinite(v) ? null : Math.log10(v)))
  );
  const tickvals: number[] = [];
  for (let d = Math.ceil(lo); d <= Math.floor(hi); d++) {
    tickvals.push(d);
  }
  return {
    ...dim,
    label: `${label} (log)`,
    tickvals,
    ticktext: tickvals.map(d => `1e${d}`)
  };
}

/** A categorical axis: each distinct text a tick, in sorted order. */
export function categoricalDimension(
  label: string,
  values: (string | undefined)[]
): IDimension {
  const texts = values.map(v => (v === undefined ? MISSING_LABEL : v));
  const categories = [...new Set(texts)].sort();
  const index = new Map(categories.map((c, i) => [c, i]));
  return {
    label,
    values: texts.map(t => index.get(t) as number),
    range: [0, Math.max(1, categories.length - 1)],
    tickvals: categories.map((_, i) => i),
    ticktext: categories
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
