/**
 * A run's tags in the run view: the user's tags, a sweep's settings with a link to its best
 * trial, and a collapsed "system" group of nbstudio's and MLflow's bookkeeping tags.
 */

import * as React from 'react';

import { KeyValueTable } from './components';
import { groupTags } from './runtags';

export function RunTags(props: {
  tags: Record<string, string>;
  openRun: (runId: string) => void;
  /** Names of runs the tags may point at (a sweep's trials), by run id. */
  runNames?: Record<string, string>;
  /** Draws the user's tags editable (the run view's tag editor); a plain table otherwise. */
  editor?: (userTags: Record<string, string>) => JSX.Element;
}): JSX.Element {
  const groups = React.useMemo(() => groupTags(props.tags), [props.tags]);
  const systemCount = Object.keys(groups.system).length;
  return (
    <>
      {groups.sweep && (
        <div className="nbs-sweep-settings">
          <h4>Sweep</h4>
          <table className="nbs-kv">
            <tbody>
              {groups.bestRunId && (
                <tr>
                  <th>best run</th>
                  <td>
                    <span
                      className="nbs-clickable nbs-best-run"
                      title={`Open run ${groups.bestRunId}`}
                      onClick={() => props.openRun(groups.bestRunId as string)}
                    >
                      {props.runNames?.[groups.bestRunId] || groups.bestRunId}
                    </span>
                  </td>
                </tr>
              )}
              {groups.sweep.map(([label, value]) => (
                <tr key={label}>
                  <th>{label}</th>
                  <td className="nbs-pre-line">{value}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h4>Tags</h4>
      {props.editor ? (
        props.editor(groups.user)
      ) : (
        <KeyValueTable values={groups.user} empty="No tags." />
      )}
      {systemCount > 0 && (
        <details className="nbs-system-tags">
          <summary>system ({systemCount})</summary>
          <KeyValueTable values={groups.system} empty="" />
        </details>
      )}
    </>
  );
}
