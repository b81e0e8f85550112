/**
 * The Inputs/Outputs section of the run view: the data versions a run read (with the context it
 * read them in) and the versions it wrote, from `GET runs/<id>/data`.
 */

import * as React from 'react';

import { IRunData, IRunDataItem, NbstudioAPI } from './api';
import { ErrorLine } from './components';
import { shortDigest } from './datalabels';
import { formatBytes } from './format';

export function RunDataSection(props: {
  api: NbstudioAPI;
  runId: string;
  /** Changes when the run may have new inputs/outputs (its status, say): read again then. */
  refreshKey: string;
}): JSX.Element {
  const { api, runId, refreshKey } = props;
  const [data, setData] = React.useState<IRunData | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  React.useEffect(() => {
    let live = true;
    api
      .runData(runId)
      .then(answer => {
        if (live) {
          setData(answer);
          setError(null);
        }
      })
      .catch(
        reason =>
          live &&
          setError(reason instanceof Error ? reason.message : String(reason))
      );
    return () => {
      live = false;
    };
  }, [runId, refreshKey]);
  return (
    <section className="nbs-run-data">
      <h3>Inputs / Outputs</h3>
      <ErrorLine error={error} />
      {data && (
        <>
          <h4>Inputs</h4>
          <DataTable
            items={data.inputs}
            kind="input"
            empty="No data read in this run (nbstudio.data.get(...) inside it records one)."
          />
          <h4>Outputs</h4>
          <DataTable
            items={data.outputs}
            kind="output"
            empty="No data version made by this run (nbstudio.data.create(...) inside it records one)."
          />
        </>
      )}
    </section>
  );
}

function DataTable(props: {
  items: IRunDataItem[];
  kind: 'input' | 'output';
  empty: string;
}): JSX.Element {
  if (!props.items.length) {
    return <div className="nbs-note">{props.empty}</div>;
  }
  return (
    <table className={`nbs-table nbs-run-${props.kind}s`}>
      <thead>
        <tr>
          <th>Data asset</th>
          {props.kind === 'input' && <th>Context</th>}
          <th>Type</th>
          <th>Size</th>
          <th>Digest</th>
          <th>Location</th>
        </tr>
      </thead>
      <tbody>
        {props.items.map(item => (
          <tr
            key={`${item.name}@${item.version}@${item.context ?? ''}`}
            data-data={`${item.name}@${item.version ?? ''}`}
          >
            <td className="nbs-name">
              {item.name}
              {item.version !== null ? `@${item.version}` : ''}
            </td>
            {props.kind === 'input' && <td>{item.context || '-'}</td>}
            <td>{item.type ?? '-'}</td>
            <td>{formatBytes(item.size)}</td>
            <td className="nbs-digest" title={item.digest}>
              {shortDigest(item.digest)}
            </td>
            <td className="nbs-data-uri" title={item.uri ?? ''}>
              {item.uri ?? '-'}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
