/**
 * The panel's polling policy, as pure functions the Lumino polls are configured with.
 *
 * Lists refresh about every two seconds while the panel is on screen; a poll waits (standby) while
 * the panel is collapsed or the browser tab is hidden, and backs off up to a minute on errors so a
 * stopped server is not hammered. A run view stops polling once its run has ended and its final
 * state has been drawn.
 */

import { isActiveStatus } from './format';

/** Milliseconds between refreshes while something is on screen. */
export const POLL_INTERVAL = 2000;

/** Longest wait between attempts after repeated errors. */
export const MAX_BACKOFF = 60000;

/** Most runs re-read in one refresh of an expanded experiment (the API's page_size limit). */
export const MAX_PAGE_SIZE = 500;

/** Runs shown per "load more" page. */
export const PAGE_SIZE = 50;

/** The frequency the Lumino polls are given (shape of `IPoll.Frequency`). */
export interface IFrequency {
  interval: number;
  backoff: boolean | number;
  max: number;
}

/** How often the side panel refreshes. */
export function panelFrequency(): IFrequency {
  return { interval: POLL_INTERVAL, backoff: true, max: MAX_BACKOFF };
}

/**
 * The Lumino ``standby`` answer: always stand by while the panel is not visible, otherwise only
 * while the browser tab is hidden.
 */
export function standbyFor(visible: boolean): boolean | 'when-hidden' {
  return visible ? 'when-hidden' : true;
}

/**
 * How many runs an expanded experiment re-reads on a refresh: everything already loaded (so
 * statuses of runs further down update too), at least a page, at most the API's limit.
 */
export function refreshPageSize(loaded: number): number {
  return Math.min(MAX_PAGE_SIZE, Math.max(PAGE_SIZE, loaded));
}

/** What a run view last drew. */
export interface IRunSnapshot {
  status: string;
  metrics: Record<string, number>;
}

/**
 * Whether a run view should re-read its metric histories: on the first load, while the run is
 * active, or when its status or latest metrics changed since the last draw.
 */
export function needsHistoryRefresh(
  previous: IRunSnapshot | null,
  next: IRunSnapshot
): boolean {
  if (previous === null || isActiveStatus(next.status)) {
    return true;
  }
  if (previous.status !== next.status) {
    return true;
  }
  const keys = new Set([
    ...Object.keys(previous.metrics),
    ...Object.keys(next.metrics)
  ]);
  for (const key of keys) {
    if (previous.metrics[key] !== next.metrics[key]) {
      return true;
    }
  }
  return false;
}

/** Whether a run view keeps polling after drawing a run in this state. */
export function keepPollingRun(status: string): boolean {
  return isActiveStatus(status);
}
