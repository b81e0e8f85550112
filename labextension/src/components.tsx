/**
 * Small React pieces shared by the panel and the main-area views.
 */

import * as React from 'react';

import { IRunSummary } from './api';
import { formatDuration, formatValue, runDuration } from './format';

/** A coloured pill with a run's state. */
export function StatusBadge(props: { status: string }): JSX.Element {
  return (
    <span
      className={`nbs-status nbs-status-${props.status}`}
      data-status={props.status}
    >
      {props.status}
    </span>
  );
}

/** "accuracy 0.9312" for a run's primary metric, or nothing. */
export function PrimaryMetric(props: { run: IRunSummary }): JSX.Element | null {
  const metric = props.run.primary_metric;
  if (!metric) {
    return null;
  }
  return (
    <span className="nbs-metric" title={`${metric.key} = ${metric.value}`}>
      <span className="nbs-metric-key">{metric.key}</span>{' '}
      {formatValue(metric.value)}
    </span>
  );
}

/** A run's duration, ticking while it runs (the parent re-renders on every poll). */
export function Duration(props: { run: IRunSummary }): JSX.Element {
  return (
    <span className="nbs-duration">
      {formatDuration(runDuration(props.run))}
    </span>
  );
}

/** A short explanation shown instead of an empty list, with the magic that fills it. */
export function EmptyState(props: { children: React.ReactNode }): JSX.Element {
  return <div className="nbs-empty">{props.children}</div>;
}

/** An error line under a section. */
export function ErrorLine(props: { error: string | null }): JSX.Element | null {
  return props.error ? <div className="nbs-error">{props.error}</div> : null;
}

/** A key/value table (params, tags). */
export function KeyValueTable(props: {
  values: Record<string, string | number>;
  empty: string;
}): JSX.Element {
  const keys = Object.keys(props.values).sort();
  if (!keys.length) {
    return <div className="nbs-note">{props.empty}</div>;
  }
  return (
    <table className="nbs-kv">
      <tbody>
        {keys.map(key => (
          <tr key={key}>
            <th>{key}</th>
            <td>
              {typeof props.values[key] === 'number'
                ? formatValue(props.values[key] as number)
                : props.values[key]}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
