/**
 * The compare view: runs side by side in a sortable table of params and metrics, and a
 * parallel-coordinates chart (WebGL, so a thousand lines stay smooth).
 */

import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { IRunSummary, NbstudioAPI } from './api';
import { ParallelChart } from './charts';
import { CompareCurves } from './comparecurves';
import {
  comparedRuns,
  compareColumns,
  IColumn,
  parallelDimensions
} from './comparison';
import { Duration, StatusBadge } from './components';
import { formatParam, formatValue } from './format';

export class CompareView extends ReactWidget {
  constructor(options: CompareView.IOptions) {
    super();
    this.runs = options.runs;
    this._openRun = options.openRun;
    this._api = options.api ?? null;
    this.addClass('nbs-compareview');
  }

  readonly runs: readonly IRunSummary[];

  render(): JSX.Element {
    return (
      <CompareContent
        runs={this.runs}
        openRun={this._openRun}
        api={this._api}
      />
    );
  }

  private _openRun: (runId: string) => void;
  private _api: NbstudioAPI | null;
}

export namespace CompareView {
  export interface IOptions {
    runs: readonly IRunSummary[];
    openRun: (runId: string) => void;
    /** Reads the metric histories of the overlaid curves (none drawn without it). */
    api?: NbstudioAPI;
  }
}

/** Sort key of a run for a column: numbers by value, texts alphabetically, missing last. */
function cellValue(
  run: IRunSummary,
  column: IColumn
): string | number | undefined {
  if (column.kind === 'metric') {
    return run.metrics[column.key];
  }
  const text = run.params[column.key];
  const num = text === undefined ? NaN : Number(text);
  return text !== undefined && text.trim() !== '' && Number.isFinite(num)
    ? num
    : text;
}

function compareCells(
  a: string | number | undefined,
  b: string | number | undefined
): number {
  if (a === undefined || b === undefined) {
    return a === b ? 0 : a === undefined ? 1 : -1;
  }
  if (typeof a === 'number' && typeof b === 'number') {
    return a - b;
  }
  return String(a).localeCompare(String(b));
}

function CompareContent(props: {
  runs: readonly IRunSummary[];
  openRun: (runId: string) => void;
  api: NbstudioAPI | null;
}): JSX.Element {
  const { openRun } = props;
  const { runs, parents } = React.useMemo(
    () => comparedRuns(props.runs),
    [props.runs]
  );
  const [onlyDiffering, setOnlyDiffering] = React.useState(runs.length > 1);
  const [sort, setSort] = React.useState<{
    column: IColumn;
    descending: boolean;
  } | null>(null);
  const columns = React.useMemo(() => compareColumns(runs), [runs]);
  const chart = React.useMemo(() => parallelDimensions(runs), [runs]);
  const shown = columns.filter(c => !onlyDiffering || c.differs);
  const rows = React.useMemo(() => {
    if (!sort) {
      return runs;
    }
    const sign = sort.descending ? -1 : 1;
    return [...runs].sort(
      (a, b) =>
        sign *
        compareCells(cellValue(a, sort.column), cellValue(b, sort.column))
    );
  }, [runs, sort]);
  const onHeader = (column: IColumn): void =>
    setSort(
      sort && sort.column.key === column.key && sort.column.kind === column.kind
        ? { column, descending: !sort.descending }
        : { column, descending: column.kind === 'metric' }
    );
  return (
    <div className="nbs-view nbs-compare" data-runs={runs.length}>
      <div className="nbs-view-header">
        <h2>Comparing {runs.length.toLocaleString()} runs</h2>
        <label className="nbs-note">
          <input
            type="checkbox"
            checked={onlyDiffering}
            onChange={() => setOnlyDiffering(!onlyDiffering)}
          />{' '}
          only columns that differ
        </label>
      </div>
      {parents.length > 0 && (
        <div className="nbs-note nbs-parents-left-out">
          Comparing the trials of{' '}
          {parents.map(p => p.run_name || p.run_id.slice(0, 8)).join(', ')}
          {': '}
          {parents.length === 1 ? 'its run is' : 'their runs are'} left out.
        </div>
      )}
      {chart.dimensions.length > 0 ? (
        <ParallelChart
          dimensions={chart.dimensions}
          colors={chart.colors}
          colorKey={chart.colorKey}
        />
      ) : (
        <div className="nbs-note">
          These runs have no params or metrics to chart.
        </div>
      )}
      {props.api && <CompareCurves api={props.api} runs={runs} />}
      <div className="nbs-table-scroll">
        <table className="nbs-table nbs-compare-table">
          <thead>
            <tr>
              <th>Run</th>
              <th>Status</th>
              <th>Duration</th>
              {shown.map(column => (
                <th
                  key={`${column.kind}:${column.key}`}
                  className={`nbs-sortable nbs-col-${column.kind}`}
                  title={`${column.kind} ${column.key} (click to sort)`}
                  onClick={() => onHeader(column)}
                >
                  {column.key}
                  {sort &&
                  sort.column.key === column.key &&
                  sort.column.kind === column.kind
                    ? sort.descending
                      ? ' ▾'
                      : ' ▴'
                    : ''}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map(run => (
              <tr key={run.run_id} data-run-id={run.run_id}>
                <td>
                  <span
                    className="nbs-clickable"
                    onClick={() => openRun(run.run_id)}
                  >
                    {run.run_name || run.run_id.slice(0, 8)}
                  </span>
                </td>
                <td>
                  <StatusBadge status={run.status} />
                </td>
                <td>
                  <Duration run={run} />
                </td>
                {shown.map(column => (
                  <td
                    key={`${column.kind}:${column.key}`}
                    className={column.kind === 'metric' ? 'nbs-num' : ''}
                    title={
                      column.kind === 'metric'
                        ? String(run.metrics[column.key] ?? '')
                        : (run.params[column.key] ?? '')
                    }
                  >
                    {column.kind === 'metric'
                      ? formatValue(run.metrics[column.key])
                      : formatParam(run.params[column.key])}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
