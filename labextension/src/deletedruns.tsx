/**
 * An experiment's deleted runs in the side panel, behind a "show deleted runs" toggle (MLflow's
 * UI lists them under its "Deleted" filter): each opens in the run view, or is restored here.
 */

import * as React from 'react';

import { IRunSummary, NbstudioAPI } from './api';
import { ErrorLine, StatusBadge } from './components';

export function DeletedRuns(props: {
  api: NbstudioAPI;
  experimentId: string;
  /** Changes when runs may have been deleted or restored elsewhere (the run count): read again. */
  refreshKey: number;
  openRun: (runId: string, name: string) => void;
  onRestored: () => void;
}): JSX.Element {
  const { api, experimentId } = props;
  const [shown, setShown] = React.useState(false);
  const [runs, setRuns] = React.useState<IRunSummary[] | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const [reads, setReads] = React.useState(0);
  React.useEffect(() => {
    if (!shown) {
      return;
    }
    let live = true;
    api
      .deletedRuns(experimentId)
      .then(answer => {
        if (live) {
          setRuns(answer.runs);
          setError(null);
        }
      })
      .catch(reason => live && setError(String(reason)));
    return () => {
      live = false;
    };
  }, [shown, experimentId, reads, props.refreshKey]);
  const restore = (runId: string): void =>
    void api
      .runAction(runId, 'restore')
      .then(() => {
        setReads(reads + 1);
        props.onRestored();
      })
      .catch(reason => setError(String(reason)));
  return (
    <div className="nbs-deleted-runs">
      <button
        className="nbs-link-button nbs-show-deleted"
        aria-pressed={shown}
        onClick={() => setShown(!shown)}
      >
        {shown ? 'Hide deleted runs' : 'Show deleted runs'}
      </button>
      {shown && (
        <>
          <ErrorLine error={error} />
          {runs === null && !error && (
            <div className="nbs-note nbs-loading">Loading…</div>
          )}
          {runs?.length === 0 && (
            <div className="nbs-note">No deleted runs.</div>
          )}
          <ul className="nbs-list">
            {runs?.map(run => (
              <li
                key={run.run_id}
                className="nbs-run nbs-deleted"
                data-run-id={run.run_id}
              >
                <div className="nbs-row">
                  <StatusBadge status={run.status} />
                  <span
                    className="nbs-name nbs-clickable"
                    title={`${run.run_name} (deleted; ${run.run_id})`}
                    onClick={() => props.openRun(run.run_id, run.run_name)}
                  >
                    {run.run_name || run.run_id}
                  </span>
                  <button
                    className="nbs-link-button nbs-restore"
                    onClick={() => restore(run.run_id)}
                  >
                    restore
                  </button>
                </div>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
