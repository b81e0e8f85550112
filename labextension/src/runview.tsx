/**
 * The main-area view of one run: overview, metric charts, artifacts with previews, child runs.
 *
 * It polls the run while it is active and on screen, redraws charts only when the metrics moved,
 * and stops polling once the run has ended and its final state is drawn.
 */

import * as React from 'react';

import {
  IArtifactEntry,
  IArtifactPreview,
  IMetricHistory,
  IRunMeta,
  IRunResponse,
  IRunSummary,
  NbstudioAPI
} from './api';
import { MetricChart } from './charts';
import { EvaluationPlots } from './evaluationplots';
import {
  Duration,
  ErrorLine,
  KeyValueTable,
  PrimaryMetric,
  StatusBadge
} from './components';
import { formatBytes, formatDuration, formatTime, runDuration } from './format';
import { RunDataSection } from './rundata';
import { DeleteRestore, RunDescription, RunName, TagEditor } from './runedit';
import { RunModelsSection } from './runmodels';
import { isSystemMetric, splitSystemKeys } from './systemmetrics';
import { RunTags } from './tagsection';
import { notebookContentsPath } from './paths';
import { IRunSnapshot, keepPollingRun, needsHistoryRefresh } from './polling';
import { PollingView } from './pollingview';

/** Most metric charts drawn for one run. */
const MAX_CHARTS = 12;

/** Points asked of the server per chart (it downsamples beyond that). */
const CHART_POINTS = 2000;

/** Artifacts previewed without a click, in this order. */
export const AUTO_PREVIEW = ['cell.py', 'outputs/log.txt', 'error.txt'];

/** Tags hidden in the overview because they repeat what is shown elsewhere. */
const HIDDEN_TAGS = new Set([
  'mlflow.note.content',
  'mlflow.runName',
  'mlflow.parentRunId',
  'mlflow.log-model.history'
]);

export class RunView extends PollingView {
  constructor(options: RunView.IOptions) {
    super(`nbstudio:run:${options.runId}`);
    this.runId = options.runId;
    this._options = options;
    this.addClass('nbs-runview');
  }

  readonly runId: string;

  /** The run as last read, or null before the first answer. */
  get response(): IRunResponse | null {
    return this._response;
  }

  /** Read the run again, now (the refresh button; works after polling stopped too). */
  async reload(): Promise<void> {
    this._snapshot = null;
    this._previews.delete('outputs/log.txt');
    await this.load().catch(() => undefined);
  }

  protected async load(): Promise<void> {
    const api = this._options.api;
    let response: IRunResponse;
    try {
      response = await api.run(this.runId);
    } catch (reason) {
      this._error = reason instanceof Error ? reason.message : String(reason);
      this.update();
      throw reason;
    }
    this._error = null;
    const run = response.run;
    const snapshot: IRunSnapshot = {
      status: run.status,
      metrics: { ...run.metrics }
    };
    const tasks: Promise<void>[] = [
      api
        .runMeta(this.runId)
        .then(meta => void (this._meta = meta))
        .catch(() => undefined)
    ];
    if (needsHistoryRefresh(this._snapshot, snapshot)) {
      tasks.push(this._loadHistories(api, run));
    }
    tasks.push(
      this._loadPreviews(api, response.artifacts, keepPollingRun(run.status))
    );
    await Promise.all(tasks);
    this._response = response;
    this._snapshot = snapshot;
    this.finished = !keepPollingRun(run.status);
    this.title.label = `Run ${run.run_name || run.run_id.slice(0, 8)}`;
    this.update();
  }

  private async _loadHistories(
    api: NbstudioAPI,
    run: IRunSummary
  ): Promise<void> {
    const { model, system } = splitSystemKeys(chartKeys(run));
    const keys = [
      ...model.slice(0, MAX_CHARTS),
      ...system.slice(0, MAX_CHARTS)
    ];
    const histories = await Promise.all(
      keys.map(key =>
        api.metricHistory(this.runId, key, CHART_POINTS).catch(() => null)
      )
    );
    this._histories = histories.filter((h): h is IMetricHistory => h !== null);
  }

  private async _loadPreviews(
    api: NbstudioAPI,
    artifacts: IArtifactEntry[],
    active: boolean
  ): Promise<void> {
    const present = new Set(
      artifacts.filter(a => !a.is_dir && !a.is_link).map(a => a.path)
    );
    const wanted = AUTO_PREVIEW.filter(
      path =>
        present.has(path) &&
        (!this._previews.has(path) || (active && path.endsWith('.txt')))
    );
    if (this._selected && !this._previews.has(this._selected)) {
      wanted.push(this._selected);
    }
    await Promise.all(
      wanted.map(path =>
        api
          .artifact(this.runId, path)
          .then(preview => void this._previews.set(path, preview))
          .catch(() => undefined)
      )
    );
  }

  /** After an edit, delete or restore: draw the run as it is now, and tell the panel. */
  private _changed(meta: IRunMeta): void {
    this._meta = meta;
    this.title.label = `Run ${meta.run_name || meta.run_id.slice(0, 8)}`;
    this.update();
    void this.reload();
    this._options.onChanged?.();
  }

  private _select(path: string): void {
    this._selected = path;
    this.update();
    if (!this._previews.has(path)) {
      void this._options.api
        .artifact(this.runId, path)
        .then(preview => {
          this._previews.set(path, preview);
          this.update();
        })
        .catch(reason => {
          this._error = String(reason);
          this.update();
        });
    }
  }

  render(): JSX.Element {
    const response = this._response;
    if (!response) {
      return (
        <div className="nbs-view">
          <ErrorLine error={this._error} />
          {!this._error && (
            <div className="nbs-note nbs-loading">
              Loading run {this.runId}…
            </div>
          )}
        </div>
      );
    }
    const { run, artifacts, children } = response;
    const { openRun, openNotebook, serverRoot } = this._options;
    const notebook = run.notebook
      ? notebookContentsPath(run.notebook, serverRoot)
      : null;
    const tags = Object.fromEntries(
      Object.entries(run.tags).filter(([key]) => !HIDDEN_TAGS.has(key))
    );
    const meta = this._meta?.run_id === run.run_id ? this._meta : null;
    const editProps = {
      api: this._options.api,
      onChanged: (changed: IRunMeta) => this._changed(changed)
    };
    const trialsKind =
      run.tags['nbstudio.sweep'] === 'true'
        ? 'sweep'
        : run.tags['nbstudio.kind'] === 'automl'
          ? 'automl'
          : null;
    const system = this._histories.filter(h => isSystemMetric(h.key));
    const modelHistories = this._histories.filter(h => !isSystemMetric(h.key));
    return (
      <div
        className="nbs-view"
        data-run-id={run.run_id}
        data-status={run.status}
      >
        <div className="nbs-view-header">
          <StatusBadge status={run.status} />
          {meta ? (
            <RunName {...editProps} meta={meta} />
          ) : (
            <h2>{run.run_name || run.run_id}</h2>
          )}
          {trialsKind && this._options.openTrials && (
            <button
              className="jp-Button jp-mod-styled nbs-open-trials"
              onClick={() =>
                this._options.openTrials?.(run.run_id, run.run_name)
              }
            >
              {trialsKind === 'automl' ? 'Leaderboard' : 'Sweep page'}
            </button>
          )}
          <button
            className="jp-Button jp-mod-styled"
            onClick={() => void this.reload()}
          >
            Refresh
          </button>
          {meta && meta.lifecycle_stage !== 'deleted' && (
            <DeleteRestore {...editProps} meta={meta} />
          )}
        </div>
        {meta && meta.lifecycle_stage === 'deleted' && (
          <DeleteRestore {...editProps} meta={meta} />
        )}
        <ErrorLine error={this._error} />
        <section className="nbs-overview">
          <h3>Overview</h3>
          <table className="nbs-kv">
            <tbody>
              <tr>
                <th>Run ID</th>
                <td>{run.run_id}</td>
              </tr>
              <tr>
                <th>Status</th>
                <td className="nbs-overview-status">{run.status}</td>
              </tr>
              <tr>
                <th>Started</th>
                <td>{formatTime(run.start_time)}</td>
              </tr>
              <tr>
                <th>Duration</th>
                <td>
                  <Duration run={run} />
                </td>
              </tr>
              {run.primary_metric && (
                <tr>
                  <th>Primary metric</th>
                  <td>
                    <PrimaryMetric run={run} />
                  </td>
                </tr>
              )}
              {run.parent_run_id && (
                <tr>
                  <th>Parent run</th>
                  <td>
                    <span
                      className="nbs-clickable"
                      onClick={() => openRun(run.parent_run_id as string)}
                    >
                      {run.parent_run_id}
                    </span>
                  </td>
                </tr>
              )}
              {(run.notebook || run.source_name) && (
                <tr>
                  <th>Source</th>
                  <td>
                    {notebook ? (
                      <span
                        className="nbs-clickable nbs-notebook-link"
                        title={`Open the notebook ${run.notebook}`}
                        onClick={() => openNotebook(notebook)}
                      >
                        {notebook}
                      </span>
                    ) : (
                      (run.notebook ?? run.source_name)
                    )}
                  </td>
                </tr>
              )}
            </tbody>
          </table>
          {meta && <RunDescription {...editProps} meta={meta} />}
          <h4>Params</h4>
          <KeyValueTable values={run.params} empty="No params." />
          <RunTags
            tags={tags}
            openRun={openRun}
            runNames={Object.fromEntries(
              children.map(c => [c.run_id, c.run_name])
            )}
            editor={
              meta
                ? userTags => (
                    <TagEditor {...editProps} meta={meta} tags={userTags} />
                  )
                : undefined
            }
          />
        </section>
        <RunDataSection
          api={this._options.api}
          runId={run.run_id}
          refreshKey={run.status}
        />
        <RunModelsSection
          api={this._options.api}
          runId={run.run_id}
          refreshKey={run.status}
        />
        <section className="nbs-metrics">
          <h3>Metrics</h3>
          {modelHistories.length === 0 ? (
            <div className="nbs-note">No metrics logged yet.</div>
          ) : (
            <div className="nbs-charts">
              {modelHistories.map(history => (
                <MetricChart key={history.key} history={history} />
              ))}
            </div>
          )}
        </section>
        {system.length > 0 && (
          <section className="nbs-system-metrics">
            <h3>System metrics</h3>
            <div className="nbs-charts">
              {system.map(history => (
                <MetricChart key={history.key} history={history} />
              ))}
            </div>
          </section>
        )}
        <EvaluationPlots
          api={this._options.api}
          runId={run.run_id}
          artifacts={artifacts}
        />
        {AUTO_PREVIEW.filter(path => this._previews.has(path)).map(path => (
          <section
            key={path}
            className="nbs-preview-section"
            data-artifact={path}
          >
            <h3>{path}</h3>
            <Preview preview={this._previews.get(path) as IArtifactPreview} />
          </section>
        ))}
        <section className="nbs-artifacts">
          <h3>Artifacts</h3>
          {artifacts.length === 0 ? (
            <div className="nbs-note">No artifacts.</div>
          ) : (
            <ul className="nbs-list nbs-artifact-list">
              {artifacts.map(entry => (
                <li
                  key={entry.path}
                  className={`nbs-row ${
                    entry.is_dir || entry.is_link ? 'nbs-dir' : 'nbs-clickable'
                  } ${entry.path === this._selected ? 'nbs-selected' : ''}`}
                  style={{
                    paddingLeft: `${entry.path.split('/').length - 1}em`
                  }}
                  onClick={() =>
                    !entry.is_dir && !entry.is_link && this._select(entry.path)
                  }
                >
                  <span className="nbs-name">
                    {entry.path.split('/').pop()}
                    {entry.is_dir ? '/' : ''}
                  </span>
                  <span className="nbs-note">
                    {entry.is_link
                      ? 'link out of the run (not followed)'
                      : formatBytes(entry.file_size)}
                  </span>
                </li>
              ))}
            </ul>
          )}
          {this._selected && this._previews.has(this._selected) && (
            <div className="nbs-selected-preview">
              <h4>{this._selected}</h4>
              <Preview
                preview={this._previews.get(this._selected) as IArtifactPreview}
              />
            </div>
          )}
        </section>
        <section className="nbs-children">
          <h3>Child runs</h3>
          {children.length === 0 ? (
            <div className="nbs-note">No child runs.</div>
          ) : (
            <table className="nbs-table">
              <thead>
                <tr>
                  <th>Status</th>
                  <th>Run</th>
                  <th>Duration</th>
                  <th>Primary metric</th>
                </tr>
              </thead>
              <tbody>
                {children.map(child => (
                  <tr key={child.run_id} data-run-id={child.run_id}>
                    <td>
                      <StatusBadge status={child.status} />
                    </td>
                    <td>
                      <span
                        className="nbs-clickable"
                        onClick={() => openRun(child.run_id)}
                      >
                        {child.run_name || child.run_id}
                      </span>
                    </td>
                    <td>{formatDuration(runDuration(child))}</td>
                    <td>
                      <PrimaryMetric run={child} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
    );
  }

  private _options: RunView.IOptions;
  private _response: IRunResponse | null = null;
  private _snapshot: IRunSnapshot | null = null;
  private _histories: IMetricHistory[] = [];
  private _meta: IRunMeta | null = null;
  private _previews = new Map<string, IArtifactPreview>();
  private _selected: string | null = null;
  private _error: string | null = null;
}

export namespace RunView {
  export interface IOptions {
    api: NbstudioAPI;
    runId: string;
    /** Open another run (parent, child) in its own view. */
    openRun: (runId: string) => void;
    /** Open the notebook the run came from (a Jupyter contents path). */
    openNotebook: (path: string) => void;
    /** The server's root folder (absolute), to map absolute notebook paths to contents paths. */
    serverRoot: string | null;
    /** Open the trials page of a sweep or AutoML job (its parent run). */
    openTrials?: (runId: string, name: string) => void;
    /** Called after the run was renamed, edited, deleted or restored (the panel refreshes). */
    onChanged?: () => void;
  }
}

/** Metric keys to chart: the primary metric first, then the rest alphabetically. */
export function chartKeys(run: IRunSummary): string[] {
  const keys = Object.keys(run.metrics).sort();
  const primary = run.primary_metric?.key;
  return primary && keys.includes(primary)
    ? [primary, ...keys.filter(k => k !== primary)]
    : keys;
}

function Preview(props: { preview: IArtifactPreview }): JSX.Element {
  const { preview } = props;
  if (preview.kind === 'image' && preview.data_url) {
    return (
      <img
        className="nbs-image-preview"
        src={preview.data_url}
        alt={preview.path}
      />
    );
  }
  if (preview.kind === 'text') {
    return (
      <>
        <pre className="nbs-text-preview">{preview.text ?? ''}</pre>
        {preview.truncated && (
          <div className="nbs-note">
            First 1 MB of {formatBytes(preview.size)} shown.
          </div>
        )}
      </>
    );
  }
  return (
    <div className="nbs-note">Binary file, {formatBytes(preview.size)}.</div>
  );
}
