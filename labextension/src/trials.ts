/**
 * Pure logic of the trials table (a sweep's page, an AutoML job's leaderboard): sorting by any
 * column, the best trial, the best trial of each estimator, the best-so-far series, and which
 * trials a policy stopped early.
 */

import { ITrial } from './api';

export type Goal = 'maximize' | 'minimize';

/** Reasons a sweep's trial was stopped by its early-termination policy (sweep/history.py). */
export const POLICY_REASONS: ReadonlySet<string> = new Set([
  'bandit',
  'median_stopping',
  'truncation_selection'
]);

/** A column: ``number``, ``state``, ``estimator``, ``value``, ``config``, ``param:K``, ``metric:K``. */
export type TrialColumn = string;

export interface ITrialSort {
  column: TrialColumn;
  descending: boolean;
}

/** The value a trial shows in ``column`` (params as numbers when they parse as numbers). */
export function trialCell(
  trial: ITrial,
  column: TrialColumn
): string | number | null {
  if (column === 'number') {
    return trial.number;
  }
  if (column === 'state') {
    return trial.state;
  }
  if (column === 'estimator') {
    return trial.estimator;
  }
  if (column === 'value') {
    return trial.value;
  }
  if (column === 'config') {
    return Object.entries(trial.params)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
  }
  if (column.startsWith('param:')) {
    const text = trial.params[column.slice(6)];
    if (text === undefined) {
      return null;
    }
    const number = Number(text);
    return text.trim() !== '' && Number.isFinite(number) ? number : text;
  }
  if (column.startsWith('metric:')) {
    const value = trial.metrics[column.slice(7)];
    return value === undefined || value === null || !Number.isFinite(value)
      ? null
      : value;
  }
  return null;
}

function compareCells(
  a: string | number | null,
  b: string | number | null
): number {
  if (typeof a === 'number' && typeof b === 'number') {
    return a - b;
  }
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

/** The trials sorted by ``sort``; missing values always last; ties by trial number. */
export function sortTrials(
  trials: readonly ITrial[],
  sort: ITrialSort
): ITrial[] {
  const sign = sort.descending ? -1 : 1;
  return [...trials].sort((x, y) => {
    const a = trialCell(x, sort.column);
    const b = trialCell(y, sort.column);
    if (a === null || b === null) {
      if (a !== b) {
        return a === null ? 1 : -1;
      }
      return x.number - y.number;
    }
    return sign * compareCells(a, b) || x.number - y.number;
  });
}

/** The sort that puts the best trial first. */
export function bestFirst(goal: Goal): ITrialSort {
  return { column: 'value', descending: goal === 'maximize' };
}

/** Whether value ``a`` is strictly better than ``b`` for ``goal``. */
export function better(a: number, b: number, goal: Goal): boolean {
  return goal === 'maximize' ? a > b : a < b;
}

/** Trials whose value counts: ended with a value (finished, or stopped early by a policy). */
export function scored(trial: ITrial): trial is ITrial & { value: number } {
  return (
    trial.value !== null &&
    Number.isFinite(trial.value) &&
    (trial.state === 'finished' || trial.state === 'killed')
  );
}

/** Ranks a scored trial: finished beat stopped early, then by value, then the earlier trial. */
function outranks(a: ITrial, b: ITrial, goal: Goal): boolean {
  const fa = a.state === 'finished';
  const fb = b.state === 'finished';
  if (fa !== fb) {
    return fa;
  }
  if (a.value !== b.value) {
    return better(a.value as number, b.value as number, goal);
  }
  return a.number < b.number;
}

/** The best trial (as the sweep's and AutoML's own summaries pick it), or null. */
export function bestTrial(
  trials: readonly ITrial[],
  goal: Goal
): ITrial | null {
  let best: ITrial | null = null;
  for (const trial of trials) {
    if (scored(trial) && (best === null || outranks(trial, best, goal))) {
      best = trial;
    }
  }
  return best;
}

/** Run ids of the best trial of each estimator (AutoML); empty when no trial has one. */
export function bestPerEstimator(
  trials: readonly ITrial[],
  goal: Goal
): Set<string> {
  const best = new Map<string, ITrial>();
  for (const trial of trials) {
    if (!trial.estimator || !scored(trial)) {
      continue;
    }
    const current = best.get(trial.estimator);
    if (!current || outranks(trial, current, goal)) {
      best.set(trial.estimator, trial);
    }
  }
  return new Set([...best.values()].map(t => t.run_id));
}

/** The best value after each scored trial, in trial order: the best-so-far curve. */
export function bestSoFar(
  trials: readonly ITrial[],
  goal: Goal
): { numbers: number[]; values: number[] } {
  const ordered = trials.filter(scored).sort((a, b) => a.number - b.number);
  const numbers: number[] = [];
  const values: number[] = [];
  let best: number | null = null;
  for (const trial of ordered) {
    if (best === null || better(trial.value, best, goal)) {
      best = trial.value;
    }
    numbers.push(trial.number);
    values.push(best);
  }
  return { numbers, values };
}

/** Whether the sweep's early-termination policy stopped this trial. */
export function stoppedEarly(trial: ITrial): boolean {
  return (
    trial.state === 'killed' && POLICY_REASONS.has(trial.terminated_by ?? '')
  );
}

/** A trial's state as the table says it. */
export function stateLabel(trial: ITrial): string {
  if (stoppedEarly(trial)) {
    return `stopped early (${(trial.terminated_by ?? '').replace(/_/g, ' ')})`;
  }
  if (trial.state === 'killed') {
    return trial.terminated_by
      ? `stopped (${trial.terminated_by.replace(/_/g, ' ')})`
      : 'stopped';
  }
  return trial.state;
}

/** Most metric columns beside the primary metric. */
export const MAX_METRIC_COLUMNS = 6;

/** Most param columns; beyond (AutoML's estimators each have their own), one "config" column. */
export const MAX_PARAM_COLUMNS = 8;

/**
 * The table's columns: number, state, estimator (AutoML), value, the params (or one config
 * column when there are too many to read), other metrics.
 */
export function trialColumns(
  trials: readonly ITrial[],
  space: readonly string[],
  primaryMetric: string
): TrialColumn[] {
  const params = new Set<string>(space);
  const metrics = new Set<string>();
  for (const trial of trials) {
    Object.keys(trial.params).forEach(k => params.add(k));
    Object.keys(trial.metrics).forEach(k => metrics.add(k));
  }
  metrics.delete(primaryMetric);
  const hasEstimator = trials.some(t => t.estimator);
  return [
    'number',
    'state',
    ...(hasEstimator ? ['estimator'] : []),
    'value',
    ...(params.size > MAX_PARAM_COLUMNS
      ? ['config']
      : [...params].sort().map(k => `param:${k}`)),
    ...[...metrics]
      .sort()
      .slice(0, MAX_METRIC_COLUMNS)
      .map(k => `metric:${k}`)
  ];
}
