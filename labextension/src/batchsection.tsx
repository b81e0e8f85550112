/**
 * The side panel's batch endpoints: one card per endpoint with its model, compute and the
 * latest job (status, input, rows scored, output asset); the job opens as a run.
 */
import * as React from 'react';

import { IBatchEndpoint } from './api';
import { EmptyState, ErrorLine, StatusBadge } from './components';
import { PanelModel } from './model';

export function BatchSection(props: {
  model: PanelModel;
  openRun: (runId: string) => void;
}): JSX.Element {
  const { batch } = props.model;
  if (batch.items === null) {
    return batch.error ? (
      <ErrorLine error={batch.error} />
    ) : (
      <div className="nbs-note nbs-loading">Loading…</div>
    );
  }
  if (!batch.items.length) {
    return (
      <EmptyState>
        No batch endpoints. Score a data asset in batch with{' '}
        <code>%batch create my-batch --model my-model@champion</code>, then
        invoke it on a data asset version (<code>%batch -h</code> shows how);
        its jobs show here.
      </EmptyState>
    );
  }
  return (
    <>
      <ErrorLine error={batch.error} />
      <ul className="nbs-list">
        {batch.items.map((ep: IBatchEndpoint) => (
          <BatchCard key={ep.name} endpoint={ep} openRun={props.openRun} />
        ))}
      </ul>
    </>
  );
}

function BatchCard(props: {
  endpoint: IBatchEndpoint;
  openRun: (runId: string) => void;
}): JSX.Element {
  const ep = props.endpoint;
  const job = ep.last_job;
  return (
    <li className="nbs-card" data-batch-endpoint={ep.name}>
      <div className="nbs-row">
        <span className="nbs-name" title={ep.name}>
          {ep.name}
        </span>
        {job && <StatusBadge status={job.status} />}
      </div>
      <div className="nbs-fields">
        <span className="nbs-field" data-field="model">
          model: {ep.model}
        </span>
        <span className="nbs-field" data-field="compute">
          compute: {ep.compute}
        </span>
      </div>
      {job ? (
        <div className="nbs-fields" data-field="last-job">
          <button
            className="nbs-link-button"
            title="Open the job's run"
            onClick={() => props.openRun(job.run_id)}
          >
            last job: {job.input ?? '?'}
          </button>
          <span className="nbs-field">
            {job.rows_scored ?? 0} rows
            {job.output ? ` → ${job.output}` : ''}
          </span>
        </div>
      ) : (
        <div className="nbs-fields nbs-note">no job yet</div>
      )}
    </li>
  );
}
