/**
 * The search row of an expanded experiment: an MLflow filter box (``metrics.acc > 0.9 and
 * params.kernel = 'rbf'``) completing the keys its runs have, and a sort choice. The REST API
 * runs the search; a filter MLflow refuses comes back as the experiment's one-line error.
 */

import * as React from 'react';

import type { IRunSummary } from './api';
import { filterKeys, sortOptions } from './searchkeys';

export function RunSearch(props: {
  experimentId: string;
  runs: readonly IRunSummary[];
  filter: string;
  orderBy: string;
  search: (filter: string, orderBy: string) => void;
}): JSX.Element {
  const [text, setText] = React.useState(props.filter);
  // Keys and sorts come from the runs listed before any filter narrowed them.
  const [seen, setSeen] = React.useState<readonly IRunSummary[]>(props.runs);
  React.useEffect(() => {
    if (props.runs.length > seen.length) {
      setSeen(props.runs);
    }
  }, [props.runs]);
  const keys = React.useMemo(() => filterKeys(seen), [seen]);
  const sorts = React.useMemo(() => sortOptions(seen), [seen]);
  const listId = `nbs-filter-keys-${props.experimentId}`;
  return (
    <form
      className="nbs-run-search"
      onSubmit={event => {
        event.preventDefault();
        props.search(text.trim(), props.orderBy);
      }}
    >
      <input
        className="jp-mod-styled nbs-filter"
        type="search"
        list={listId}
        placeholder="metrics.acc > 0.9 and params.kernel = 'rbf'"
        title="MLflow filter syntax: metrics.*, params.*, tags.*, attributes.*; Enter to search"
        aria-label="filter runs"
        value={text}
        onChange={event => {
          setText(event.target.value);
          if (event.target.value === '' && props.filter !== '') {
            props.search('', props.orderBy);
          }
        }}
      />
      <datalist id={listId}>
        {keys.map(key => (
          <option key={key} value={key} />
        ))}
      </datalist>
      <select
        className="nbs-sort"
        aria-label="sort runs"
        title="Sort runs by"
        value={props.orderBy}
        onChange={event => props.search(text.trim(), event.target.value)}
      >
        {sorts.map(option => (
          <option key={option.label} value={option.orderBy}>
            {option.label}
          </option>
        ))}
      </select>
    </form>
  );
}
