/**
 * The trials table shared by a sweep's page and an AutoML job's leaderboard: one row per trial,
 * sortable by any column (click a header), the best trial and the best of each estimator
 * marked, trials stopped early by a policy marked.
 */

import * as React from 'react';

import { ITrial } from './api';
import {
  formatDuration,
  formatParam,
  formatValue,
  runDuration
} from './format';
import {
  bestPerEstimator,
  bestTrial,
  Goal,
  ITrialSort,
  sortTrials,
  stateLabel,
  stoppedEarly,
  trialCell,
  TrialColumn,
  trialColumns
} from './trials';

function header(column: TrialColumn, primaryMetric: string): string {
  if (column === 'number') {
    return '#';
  }
  if (column === 'value') {
    return primaryMetric;
  }
  return column.replace(/^(param|metric):/, '');
}

function cellText(trial: ITrial, column: TrialColumn): string {
  if (column === 'state') {
    return stateLabel(trial);
  }
  if (column === 'config') {
    return Object.entries(trial.params)
      .map(([k, v]) => `${k}=${formatParam(v)}`)
      .join(', ');
  }
  const value = trialCell(trial, column);
  if (value === null) {
    return '—';
  }
  if (typeof value === 'number') {
    return column === 'number' ? String(value) : formatValue(value);
  }
  return column.startsWith('param:') ? formatParam(value) : value;
}

export function TrialsTable(props: {
  trials: readonly ITrial[];
  goal: Goal;
  primaryMetric: string;
  /** The params searched, shown as columns even where a trial lacks one. */
  space: readonly string[];
  /** How the table is first sorted (the user's click then wins). */
  initialSort: ITrialSort;
  openRun: (runId: string) => void;
}): JSX.Element {
  const { trials, goal, primaryMetric, space, openRun } = props;
  const [sort, setSort] = React.useState<ITrialSort>(props.initialSort);
  const columns = React.useMemo(
    () => trialColumns(trials, space, primaryMetric),
    [trials, space, primaryMetric]
  );
  const rows = React.useMemo(() => sortTrials(trials, sort), [trials, sort]);
  const best = React.useMemo(() => bestTrial(trials, goal), [trials, goal]);
  const bestOfEstimator = React.useMemo(
    () => bestPerEstimator(trials, goal),
    [trials, goal]
  );
  if (trials.length === 0) {
    return <div className="nbs-note nbs-trials-empty">No trials yet.</div>;
  }
  const toggle = (column: TrialColumn): void =>
    setSort(
      sort.column === column
        ? { column, descending: !sort.descending }
        : { column, descending: column === 'value' && goal === 'maximize' }
    );
  return (
    <div className="nbs-trials-scroll">
      <table className="nbs-table nbs-trials-table">
        <thead>
          <tr>
            {columns.map(column => (
              <th
                key={column}
                className="nbs-sortable"
                data-column={column}
                title={`Sort by ${header(column, primaryMetric)}`}
                aria-sort={
                  sort.column === column
                    ? sort.descending
                      ? 'descending'
                      : 'ascending'
                    : 'none'
                }
                onClick={() => toggle(column)}
              >
                {header(column, primaryMetric)}
                {sort.column === column && (sort.descending ? ' ▾' : ' ▴')}
              </th>
            ))}
            <th>duration</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(trial => {
            const marks = [
              trial === best ? 'nbs-trial-best' : '',
              bestOfEstimator.has(trial.run_id) ? 'nbs-best-estimator' : '',
              stoppedEarly(trial) ? 'nbs-trial-stopped' : ''
            ].join(' ');
            return (
              <tr
                key={trial.run_id}
                className={`nbs-trial ${marks}`}
                data-run-id={trial.run_id}
                data-trial={trial.number}
                data-state={trial.state}
              >
                {columns.map(column => (
                  <td key={column} data-column={column}>
                    {column === 'number' ? (
                      <span
                        className="nbs-clickable"
                        title={`Open ${trial.run_name || trial.run_id}`}
                        onClick={() => openRun(trial.run_id)}
                      >
                        {trial.number}
                      </span>
                    ) : (
                      <span
                        className="nbs-trial-cell"
                        title={cellText(trial, column)}
                      >
                        {cellText(trial, column)}
                      </span>
                    )}
                    {column === 'value' && trial === best && (
                      <span
                        className="nbs-mark nbs-mark-best"
                        title="best trial"
                      >
                        best
                      </span>
                    )}
                    {column === 'estimator' &&
                      bestOfEstimator.has(trial.run_id) && (
                        <span
                          className="nbs-mark nbs-mark-estimator"
                          title={`best ${trial.estimator ?? ''} trial`}
                        >
                          ★
                        </span>
                      )}
                  </td>
                ))}
                <td>
                  {formatDuration(runDuration({ ...trial, duration: null }))}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
