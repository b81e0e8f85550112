/**
 * The Data section of the side panel: data assets with their latest version's size, digest and
 * datastore; expand one for its versions, pick a version for the runs that read it ("used by")
 * and the run that wrote it ("produced by").
 *
 * The asset list comes from the panel model's refresh; versions and lineage are read when the
 * user opens them (and again when the asset gains a version).
 */

import * as React from 'react';

import {
  IDataAsset,
  IDataVersion,
  IDataVersionDetail,
  ILineageRun,
  NbstudioAPI
} from './api';
import { EmptyState, ErrorLine, StatusBadge } from './components';
import { placeLabel, shortDigest } from './datalabels';
import { formatBytes, formatTime } from './format';
import { PanelModel } from './model';

function message(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

export function DataSection(props: {
  model: PanelModel;
  openRun: (runId: string) => void;
}): JSX.Element {
  const { data, api } = props.model;
  if (data.items === null) {
    return data.error ? (
      <ErrorLine error={data.error} />
    ) : (
      <div className="nbs-note nbs-loading">Loading…</div>
    );
  }
  if (!data.items.length) {
    return (
      <EmptyState>
        No data assets. Register a file, folder or MLTable with{' '}
        <code>%data create wine --path wine.csv</code>; its versions, sizes,
        digests and the runs that used them show here.
      </EmptyState>
    );
  }
  return (
    <>
      <ErrorLine error={data.error} />
      <ul className="nbs-list nbs-data-list">
        {data.items.map(asset => (
          <DataAssetCard
            key={asset.name}
            asset={asset}
            api={api}
            openRun={props.openRun}
          />
        ))}
      </ul>
    </>
  );
}

function DataAssetCard(props: {
  asset: IDataAsset;
  api: NbstudioAPI;
  openRun: (runId: string) => void;
}): JSX.Element {
  const { asset, api } = props;
  const [open, setOpen] = React.useState(false);
  const [versions, setVersions] = React.useState<IDataVersion[] | null>(null);
  const [selected, setSelected] = React.useState<number | null>(null);
  const [error, setError] = React.useState<string | null>(null);

  React.useEffect(() => {
    if (!open) {
      return;
    }
    let live = true;
    api
      .dataVersions(asset.name)
      .then(answer => {
        if (live) {
          setVersions(answer.versions);
          setError(null);
        }
      })
      .catch(reason => live && setError(message(reason)));
    return () => {
      live = false;
    };
  }, [open, asset.name, asset.version_count, asset.latest]);

  return (
    <li
      className="nbs-card nbs-data-asset"
      data-asset={asset.name}
      data-open={open ? 'true' : 'false'}
    >
      <div
        className="nbs-row nbs-clickable nbs-data-asset-row"
        title={asset.description || asset.name}
        onClick={() => setOpen(!open)}
      >
        <span className={`nbs-caret ${open ? 'nbs-open' : ''}`}>▸</span>
        <span className="nbs-name">{asset.name}</span>
        <span className="nbs-data-type">{asset.type}</span>
        <span className="nbs-alias" title={`${asset.version_count} versions`}>
          v{asset.latest}
        </span>
      </div>
      <div className="nbs-fields">
        <span className="nbs-field nbs-data-size">
          {formatBytes(asset.size)}
          {asset.files > 1 ? ` · ${asset.files} files` : ''}
        </span>
        <span className="nbs-field nbs-digest" title={`sha256:${asset.digest}`}>
          sha256 {shortDigest(asset.digest)}
        </span>
        <span className="nbs-field nbs-datastore" title={asset.uri}>
          {placeLabel(asset)}
        </span>
        <span className="nbs-field">
          {asset.version_count} version{asset.version_count === 1 ? '' : 's'}
        </span>
      </div>
      {open && (
        <div className="nbs-data-versions">
          <ErrorLine error={error} />
          {versions === null && !error && (
            <div className="nbs-note nbs-loading">Loading versions…</div>
          )}
          <ul className="nbs-list nbs-versions">
            {(versions ?? []).map(v => (
              <React.Fragment key={v.version}>
                <li
                  className={`nbs-row nbs-version nbs-clickable ${
                    selected === v.version ? 'nbs-selected' : ''
                  }`}
                  data-version={v.version}
                  title={v.uri}
                  onClick={() =>
                    setSelected(selected === v.version ? null : v.version)
                  }
                >
                  <span className="nbs-name">v{v.version}</span>
                  <span className="nbs-note">{formatBytes(v.size)}</span>
                  <span className="nbs-note nbs-digest">
                    {shortDigest(v.digest)}
                  </span>
                  {v.archived && <span className="nbs-alias">archived</span>}
                  <span className="nbs-time">{formatTime(v.created)}</span>
                </li>
                {selected === v.version && (
                  <VersionLineage
                    api={api}
                    name={asset.name}
                    version={v.version}
                    openRun={props.openRun}
                  />
                )}
              </React.Fragment>
            ))}
          </ul>
        </div>
      )}
    </li>
  );
}

function VersionLineage(props: {
  api: NbstudioAPI;
  name: string;
  version: number;
  openRun: (runId: string) => void;
}): JSX.Element {
  const { api, name, version, openRun } = props;
  const [detail, setDetail] = React.useState<IDataVersionDetail | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  React.useEffect(() => {
    let live = true;
    api
      .dataVersion(name, version)
      .then(answer => live && setDetail(answer))
      .catch(reason => live && setError(message(reason)));
    return () => {
      live = false;
    };
  }, [name, version]);
  if (error) {
    return <ErrorLine error={error} />;
  }
  if (!detail) {
    return <li className="nbs-note nbs-loading">Loading lineage…</li>;
  }
  return (
    <li className="nbs-lineage" data-lineage={`${name}@${version}`}>
      <div className="nbs-lineage-uri" title={detail.uri}>
        {detail.uri}
      </div>
      <div className="nbs-lineage-label">Produced by</div>
      {detail.produced_by_run ? (
        <LineageRun run={detail.produced_by_run} openRun={openRun} />
      ) : (
        <div className="nbs-note nbs-lineage-none">
          Registered outside a run.
        </div>
      )}
      <div className="nbs-lineage-label">
        Used by {detail.used_by.length} run
        {detail.used_by.length === 1 ? '' : 's'}
      </div>
      {detail.used_by.length === 0 ? (
        <div className="nbs-note nbs-lineage-none">
          No run has read this version yet.
        </div>
      ) : (
        <ul className="nbs-list nbs-used-by">
          {detail.used_by.map(run => (
            <LineageRun key={run.run_id} run={run} openRun={openRun} />
          ))}
        </ul>
      )}
    </li>
  );
}

function LineageRun(props: {
  run: ILineageRun;
  openRun: (runId: string) => void;
}): JSX.Element {
  const { run, openRun } = props;
  return (
    <div className="nbs-row nbs-lineage-run" data-run-id={run.run_id}>
      <StatusBadge status={run.status} />
      <span
        className="nbs-name nbs-clickable"
        title={`${run.run_name ?? ''} (run ${run.run_id})`}
        onClick={() => openRun(run.run_id)}
      >
        {run.run_name || run.run_id.slice(0, 8)}
      </span>
      {run.context && <span className="nbs-alias">{run.context}</span>}
    </div>
  );
}
