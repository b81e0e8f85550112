/**
 * Pure logic of the run search box: the keys a filter can name (completion), and the columns
 * runs can be sorted by, both from the runs at hand, in MLflow's search syntax.
 */

import type { IRunSummary } from './api';

/** Attributes MLflow's run search knows, always offered. */
export const ATTRIBUTE_KEYS = [
  'attributes.status',
  'attributes.run_name',
  'attributes.start_time',
  'attributes.end_time',
  'attributes.run_id'
];

/** Tags every nbstudio run has, offered as examples of tag filters. */
export const TAG_KEYS = ['tags.`mlflow.source.name`', 'tags.`mlflow.user`'];

/** A key as MLflow's filter syntax wants it: backquoted unless a plain identifier. */
export function quoteKey(prefix: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key)
    ? `${prefix}.${key}`
    : `${prefix}.\`${key}\``;
}

/** Every key the runs have: metrics, params, then attributes and common tags. */
export function filterKeys(runs: readonly IRunSummary[]): string[] {
  const metrics = new Set<string>();
  const params = new Set<string>();
  for (const run of runs) {
    Object.keys(run.metrics).forEach(k => metrics.add(k));
    Object.keys(run.params).forEach(k => params.add(k));
  }
  return [
    ...[...metrics].sort().map(k => quoteKey('metrics', k)),
    ...[...params].sort().map(k => quoteKey('params', k)),
    ...ATTRIBUTE_KEYS,
    ...TAG_KEYS
  ];
}

/** A sort choice: its label and MLflow ``order_by`` clause ('' for the API's default). */
export interface ISortOption {
  label: string;
  orderBy: string;
}

/** Sorts offered: newest first (default), by name, status, duration-ish and each metric/param. */
export function sortOptions(runs: readonly IRunSummary[]): ISortOption[] {
  const options: ISortOption[] = [
    { label: 'newest first', orderBy: '' },
    { label: 'oldest first', orderBy: 'attributes.start_time ASC' },
    { label: 'name', orderBy: 'attributes.run_name ASC' },
    { label: 'status', orderBy: 'attributes.status ASC' }
  ];
  for (const key of filterKeys(runs)) {
    if (key.startsWith('metrics.') || key.startsWith('params.')) {
      options.push(
        { label: `${key} ↓`, orderBy: `${key} DESC` },
        { label: `${key} ↑`, orderBy: `${key} ASC` }
      );
    }
  }
  return options;
}
