/**
 * The left sidebar: Experiments (expand to see runs), Compute, Sweeps, Models, Endpoints and Data,
 * drawn from a `PanelModel` and re-rendered on each of its refreshes.
 */

import { CommandRegistry } from '@lumino/commands';
import { Message } from '@lumino/messaging';
import { ReactWidget, refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import {
  IComputeTarget,
  IExperiment,
  IPipelineRun,
  IRegisteredModel,
  IRunSummary,
  ISweep
} from './api';
import {
  Duration,
  EmptyState,
  ErrorLine,
  PrimaryMetric,
  StatusBadge
} from './components';
import { DataSection } from './datasection';
import { BatchSection } from './batchsection';
import { DeletedRuns } from './deletedruns';
import { EndpointsSection } from './endpointsection';
import { formatBytes, formatDuration, formatTime, formatValue } from './format';
import { PanelModel } from './model';
import { RunSearch } from './runsearch';

/** Commands the panel triggers (registered by the plugin). */
export namespace SidebarCommands {
  export const openRun = 'nbstudio:open-run';
  export const compareSelected = 'nbstudio:compare-selected';
  export const compareExperiment = 'nbstudio:compare-experiment';
  export const openTrials = 'nbstudio:open-trials';
  export const openPipeline = 'nbstudio:open-pipeline';
}

/** The nbstudio side panel widget. */
export class Sidebar extends ReactWidget {
  constructor(options: Sidebar.IOptions) {
    super();
    this.model = options.model;
    this.commands = options.commands;
    this.addClass('nbs-sidebar');
    this.model.changed.connect(this._onChanged, this);
  }

  readonly model: PanelModel;
  readonly commands: CommandRegistry;

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.dispose();
    super.dispose();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this.model.start();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.model.setVisible(true);
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this.model.setVisible(false);
  }

  private _onChanged(): void {
    this.update();
  }

  render(): JSX.Element {
    return <PanelView model={this.model} commands={this.commands} />;
  }
}

export namespace Sidebar {
  export interface IOptions {
    model: PanelModel;
    commands: CommandRegistry;
  }
}

interface IViewProps {
  model: PanelModel;
  commands: CommandRegistry;
}

function PanelView(props: IViewProps): JSX.Element {
  const { model, commands } = props;
  const selected = model.selected.size;
  return (
    <div className="nbs-panel">
      <div className="nbs-header">
        <span className="nbs-title">nbstudio</span>
        <button
          className="nbs-icon-button"
          title="Refresh now"
          onClick={() => void model.refreshNow()}
        >
          <refreshIcon.react tag="span" />
        </button>
      </div>
      {model.workspace && (
        <div className="nbs-workspace" title={model.workspace.tracking_uri}>
          {model.workspace.root}
        </div>
      )}
      <div className="nbs-toolbar">
        <button
          className="jp-Button jp-mod-styled jp-mod-accept nbs-compare"
          disabled={selected < 2}
          title="Select two or more runs with their checkboxes"
          onClick={() => void commands.execute(SidebarCommands.compareSelected)}
        >
          Compare{selected ? ` (${selected})` : ''}
        </button>
        {selected > 0 && (
          <button
            className="jp-Button jp-mod-styled nbs-clear"
            onClick={() => model.clearSelection()}
          >
            Clear
          </button>
        )}
      </div>
      <div className="nbs-sections">
        <Section
          name="experiments"
          title="Experiments"
          count={model.experiments.items?.length}
        >
          <ExperimentsSection {...props} />
        </Section>
        <Section
          name="compute"
          title="Compute"
          count={model.compute.items?.length}
        >
          <ComputeSection {...props} />
        </Section>
        <Section
          name="sweeps"
          title="Sweeps"
          count={model.sweeps.items?.length}
        >
          <SweepsSection {...props} />
        </Section>
        <Section
          name="pipelines"
          title="Pipelines"
          count={model.pipelines.items?.length}
        >
          <PipelinesSection {...props} />
        </Section>
        <Section
          name="models"
          title="Models"
          count={model.models.items?.length}
        >
          <ModelsSection {...props} />
        </Section>
        <Section
          name="endpoints"
          title="Endpoints"
          count={model.endpoints.items?.length}
        >
          <EndpointsSection {...props} />
        </Section>
        <Section
          name="batch"
          title="Batch endpoints"
          count={model.batch.items?.length}
        >
          <BatchSection
            model={model}
            openRun={runId =>
              void commands.execute(SidebarCommands.openRun, { runId })
            }
          />
        </Section>
        <Section name="data" title="Data" count={model.data.items?.length}>
          <DataSection
            model={model}
            openRun={runId =>
              void commands.execute(SidebarCommands.openRun, { runId })
            }
          />
        </Section>
      </div>
    </div>
  );
}

function Section(props: {
  name: string;
  title: string;
  count: number | undefined;
  children: React.ReactNode;
}): JSX.Element {
  const [open, setOpen] = React.useState(true);
  return (
    <section
      className={`nbs-section nbs-section-${props.name}`}
      data-section={props.name}
    >
      <h3 className="nbs-section-header" onClick={() => setOpen(!open)}>
        <span className={`nbs-caret ${open ? 'nbs-open' : ''}`}>▸</span>
        {props.title}
        {props.count !== undefined && (
          <span className="nbs-count">{props.count}</span>
        )}
      </h3>
      {open && <div className="nbs-section-body">{props.children}</div>}
    </section>
  );
}

function ExperimentsSection(props: IViewProps): JSX.Element {
  const { experiments } = props.model;
  if (experiments.items === null) {
    return experiments.error ? (
      <ErrorLine error={experiments.error} />
    ) : (
      <Loading />
    );
  }
  return (
    <>
      <ErrorLine error={experiments.error} />
      {experiments.items.length === 0 ? (
        <EmptyState>
          No runs yet. Load the extension with <code>%load_ext nbstudio</code>,
          then start a cell with <code>%%mlrun my-run -p alpha=0.5</code>: its
          params, metrics, output and status appear here while it runs.
        </EmptyState>
      ) : (
        <ul className="nbs-list">
          {experiments.items.map(exp => (
            <ExperimentRow
              key={exp.experiment_id}
              experiment={exp}
              {...props}
            />
          ))}
        </ul>
      )}
    </>
  );
}

function Loading(): JSX.Element {
  return <div className="nbs-note nbs-loading">Loading…</div>;
}

function ExperimentRow(
  props: IViewProps & { experiment: IExperiment }
): JSX.Element {
  const { model, commands, experiment } = props;
  const entry = model.expanded.get(experiment.experiment_id);
  return (
    <li className="nbs-experiment" data-experiment={experiment.name}>
      <div
        className="nbs-row nbs-experiment-row"
        onClick={() => void model.toggleExperiment(experiment.experiment_id)}
      >
        <span className={`nbs-caret ${entry ? 'nbs-open' : ''}`}>▸</span>
        <span
          className="nbs-name"
          title={`${experiment.name} (experiment ${experiment.experiment_id}), last activity ${formatTime(experiment.last_activity)}`}
        >
          {experiment.name}
        </span>
        <span className="nbs-count" title="runs">
          {experiment.run_count}
        </span>
        {experiment.run_count > 1 && (
          <button
            className="nbs-link-button"
            title="Compare the newest 1,000 runs of this experiment"
            onClick={event => {
              event.stopPropagation();
              void commands.execute(SidebarCommands.compareExperiment, {
                experimentId: experiment.experiment_id,
                name: experiment.name
              });
            }}
          >
            compare
          </button>
        )}
      </div>
      {entry && (
        <div className="nbs-runs">
          <RunSearch
            experimentId={experiment.experiment_id}
            runs={entry.runs}
            filter={entry.filter ?? ''}
            orderBy={entry.orderBy ?? ''}
            search={(filter, orderBy) =>
              void model.searchRuns(experiment.experiment_id, filter, orderBy)
            }
          />
          <ErrorLine error={entry.error} />
          {entry.runs.length === 0 && !entry.loading && !entry.error && (
            <div className="nbs-note">
              {entry.filter
                ? 'No run matches this filter.'
                : 'No runs in this experiment.'}
            </div>
          )}
          <ul className="nbs-list">
            {entry.runs.map(run => (
              <RunRow key={run.run_id} run={run} {...props} />
            ))}
          </ul>
          {entry.loading && <Loading />}
          {entry.nextPageToken && !entry.loading && (
            <button
              className="nbs-link-button nbs-load-more"
              onClick={() => void model.loadMore(experiment.experiment_id)}
            >
              Load more runs
            </button>
          )}
          <DeletedRuns
            api={model.api}
            experimentId={experiment.experiment_id}
            refreshKey={experiment.run_count}
            openRun={(runId, name) =>
              void commands.execute(SidebarCommands.openRun, { runId, name })
            }
            onRestored={() => void model.refreshNow()}
          />
        </div>
      )}
    </li>
  );
}

function RunRow(props: IViewProps & { run: IRunSummary }): JSX.Element {
  const { model, commands, run } = props;
  const open = (): void =>
    void commands.execute(SidebarCommands.openRun, {
      runId: run.run_id,
      name: run.run_name
    });
  return (
    <li
      className={`nbs-run ${run.parent_run_id ? 'nbs-child' : ''}`}
      data-run-id={run.run_id}
      data-status={run.status}
    >
      <div className="nbs-row">
        <input
          type="checkbox"
          className="nbs-select"
          title="Select for comparison"
          checked={model.selected.has(run.run_id)}
          onChange={() => model.toggleSelected(run)}
        />
        <StatusBadge status={run.status} />
        <span
          className="nbs-name nbs-clickable"
          title={`Open run ${run.run_name} (${run.run_id})`}
          onClick={open}
        >
          {run.parent_run_id ? '↳ ' : ''}
          {run.run_name || run.run_id.slice(0, 8)}
        </span>
      </div>
      <div className="nbs-row nbs-run-details">
        <Duration run={run} />
        <PrimaryMetric run={run} />
        <span
          className="nbs-time"
          title={
            run.start_time ? new Date(run.start_time).toLocaleString() : ''
          }
        >
          {formatTime(run.start_time)}
        </span>
      </div>
    </li>
  );
}

/** "2 nodes (0–4) · 4 cores · 8 GB · 1 task, 2 queued" for a compute target. */
export function computeSummary(target: IComputeTarget): string {
  const parts: string[] = [];
  if (typeof target.nodes === 'number') {
    const bounds =
      typeof target.max_nodes === 'number'
        ? ` (${target.min_nodes ?? 0}–${target.max_nodes})`
        : '';
    const starting = target.starting_nodes
      ? `, ${target.starting_nodes} starting`
      : '';
    parts.push(
      `${target.nodes} node${target.nodes === 1 ? '' : 's'}${bounds}${starting}`
    );
  }
  if (typeof target.cores === 'number') {
    parts.push(`${target.cores} cores`);
  }
  if (typeof target.memory === 'number') {
    parts.push(formatBytes(target.memory));
  }
  if (typeof target.tasks === 'number') {
    const queued = target.queued ? `, ${target.queued} queued` : '';
    parts.push(`${target.tasks} task${target.tasks === 1 ? '' : 's'}${queued}`);
  }
  return parts.join(' · ');
}

function ComputeSection(props: IViewProps): JSX.Element {
  const { model } = props;
  const { compute } = model;
  if (compute.items === null) {
    return compute.error ? <ErrorLine error={compute.error} /> : <Loading />;
  }
  if (!compute.items.length) {
    return (
      <EmptyState>
        Cells run in the kernel (<code>local</code>). Create a Dask cluster with{' '}
        <code>%compute create cpu --max-nodes 4</code> and send a run to it with{' '}
        <code>%%mlrun --compute cpu</code>; its state, nodes and cores show
        here.
      </EmptyState>
    );
  }
  return (
    <>
      <ErrorLine error={compute.error} />
      <ul className="nbs-list">
        {compute.items.map((target: IComputeTarget) => {
          const actions = (target.actions ?? []).filter(
            (a): a is 'start' | 'stop' => a === 'start' || a === 'stop'
          );
          return (
            <li
              key={target.name}
              className="nbs-card"
              data-compute={target.name}
            >
              <div className="nbs-row">
                <span
                  className="nbs-name"
                  title={`${target.name} (${target.address ?? target.kind})`}
                >
                  {target.name}
                </span>
                <span className="nbs-note">{target.kind}</span>
                {target.state && (
                  <StatusBadge status={target.state.toUpperCase()} />
                )}
                {actions.map(action => (
                  <button
                    key={action}
                    className="nbs-link-button"
                    title={`${action} ${target.name}`}
                    onClick={() =>
                      void model.computeAction(target.name, action)
                    }
                  >
                    {action}
                  </button>
                ))}
              </div>
              <div className="nbs-fields">
                <span className="nbs-field">{computeSummary(target)}</span>
                {target.dashboard_link && (
                  <a
                    className="nbs-field nbs-clickable"
                    href={target.dashboard_link}
                    target="_blank"
                    rel="noopener noreferrer"
                  >
                    dashboard
                  </a>
                )}
              </div>
              {target.reason && <ErrorLine error={target.reason} />}
            </li>
          );
        })}
      </ul>
    </>
  );
}

function PipelinesSection(props: IViewProps): JSX.Element {
  const { model, commands } = props;
  const { pipelines } = model;
  if (pipelines.items === null) {
    return pipelines.error ? (
      <ErrorLine error={pipelines.error} />
    ) : (
      <Loading />
    );
  }
  if (!pipelines.items.length) {
    return (
      <EmptyState>
        No pipelines yet. Decorate a function of components with{' '}
        <code>@nbstudio.pipeline</code> and run it (<code>%pipeline -h</code>{' '}
        shows how): its runs, with their steps done and reused, show here.
      </EmptyState>
    );
  }
  return (
    <>
      <ErrorLine error={pipelines.error} />
      <ul className="nbs-list">
        {pipelines.items.map((run: IPipelineRun) => (
          <li key={run.run_id} className="nbs-card" data-pipeline={run.run_id}>
            <div className="nbs-row">
              <StatusBadge status={run.status} />
              <span
                className="nbs-name nbs-clickable"
                title={`Open pipeline run ${run.run_name ?? run.pipeline} (${run.run_id})`}
                onClick={() =>
                  void commands.execute(SidebarCommands.openRun, {
                    runId: run.run_id,
                    name: run.run_name ?? run.pipeline
                  })
                }
              >
                {run.run_name ?? run.pipeline}
              </span>
              <span
                className="nbs-clickable nbs-note nbs-pipeline-graph-link"
                title="Open the pipeline's graph"
                onClick={() =>
                  void commands.execute(SidebarCommands.openPipeline, {
                    runId: run.run_id,
                    name: run.run_name ?? run.pipeline
                  })
                }
              >
                graph
              </span>
              <span className="nbs-note">{formatDuration(run.duration)}</span>
            </div>
            <progress
              className="nbs-progress"
              max={Math.max(1, run.steps_total)}
              value={run.steps_done}
            />
            <div className="nbs-fields">
              <span className="nbs-field">
                {run.steps_done}/{run.steps_total} steps done · {run.reused}{' '}
                reused
              </span>
              {run.failed_step && (
                <span className="nbs-field">failed at {run.failed_step}</span>
              )}
            </div>
          </li>
        ))}
      </ul>
    </>
  );
}

function SweepsSection(props: IViewProps): JSX.Element {
  const { model, commands } = props;
  const { sweeps } = model;
  if (sweeps.items === null) {
    return sweeps.error ? <ErrorLine error={sweeps.error} /> : <Loading />;
  }
  if (!sweeps.items.length) {
    return (
      <EmptyState>
        No sweeps yet. A cell whose params are distributions is a sweep:{' '}
        <code>
          %%mlrun -p lr=&quot;loguniform(1e-4, 1e-1)&quot; --sweep
          maximize:accuracy --max-trials 20
        </code>
        . Its trials, progress and best value show here.
      </EmptyState>
    );
  }
  return (
    <>
      <ErrorLine error={sweeps.error} />
      <ul className="nbs-list">
        {sweeps.items.map((sweep: ISweep) => {
          const c = sweep.counts;
          const done = c.finished + c.killed + c.failed;
          const total = sweep.max_total_trials ?? done + c.running + c.queued;
          return (
            <li
              key={sweep.run_id}
              className="nbs-card"
              data-sweep={sweep.run_id}
            >
              <div className="nbs-row">
                <StatusBadge status={sweep.status} />
                <span
                  className="nbs-name nbs-clickable"
                  title={`Open sweep ${sweep.run_name} (${sweep.run_id})`}
                  onClick={() =>
                    void commands.execute(SidebarCommands.openRun, {
                      runId: sweep.run_id,
                      name: sweep.run_name
                    })
                  }
                >
                  {sweep.run_name}
                </span>
                <span className="nbs-note">
                  {sweep.goal} {sweep.primary_metric}
                </span>
                <button
                  className="nbs-link-button nbs-open-trials"
                  title="Open the sweep's page: trials, best so far, parallel coordinates"
                  onClick={() =>
                    void commands.execute(SidebarCommands.openTrials, {
                      runId: sweep.run_id,
                      name: sweep.run_name
                    })
                  }
                >
                  trials
                </button>
              </div>
              <progress
                className="nbs-progress"
                max={Math.max(1, total)}
                value={done}
              />
              <div className="nbs-fields">
                <span className="nbs-field">
                  {done}/{total} done · {c.running} running · {c.queued} queued
                  · {c.killed} stopped early · {c.failed} failed
                </span>
                {sweep.best && (
                  <span className="nbs-field">
                    best {sweep.primary_metric} {formatValue(sweep.best.value)}
                  </span>
                )}
              </div>
            </li>
          );
        })}
      </ul>
    </>
  );
}

function ModelsSection(props: IViewProps): JSX.Element {
  const { model, commands } = props;
  const { models } = model;
  if (models.items === null) {
    return models.error ? <ErrorLine error={models.error} /> : <Loading />;
  }
  if (!models.items.length) {
    return (
      <EmptyState>
        No registered models. Register one from a run with{' '}
        <code>%register_model model --name my-model --alias champion</code>; its
        versions and aliases show here.
      </EmptyState>
    );
  }
  return (
    <>
      <ErrorLine error={models.error} />
      <ul className="nbs-list">
        {models.items.map((m: IRegisteredModel) => (
          <li key={m.name} className="nbs-card" data-model={m.name}>
            <div className="nbs-row">
              <span className="nbs-name" title={m.name}>
                {m.name}
              </span>
              <span className="nbs-count" title="versions">
                {m.versions.length}
              </span>
              {Object.entries(m.aliases).map(([alias, version]) => (
                <span key={alias} className="nbs-alias">
                  @{alias} → v{version}
                </span>
              ))}
            </div>
            {m.description && <div className="nbs-note">{m.description}</div>}
            <ul className="nbs-list nbs-versions">
              {m.versions.slice(0, 5).map(v => (
                <li key={String(v.version)} className="nbs-row nbs-version">
                  <span className="nbs-name">v{v.version}</span>
                  <span className="nbs-note">{v.status}</span>
                  {v.aliases.map(a => (
                    <span key={a} className="nbs-alias">
                      @{a}
                    </span>
                  ))}
                  <span
                    className="nbs-time"
                    title={
                      v.creation_timestamp
                        ? new Date(v.creation_timestamp).toLocaleString()
                        : ''
                    }
                  >
                    {formatTime(v.creation_timestamp)}
                  </span>
                  {v.run_id && (
                    <button
                      className="nbs-link-button"
                      title={`Open run ${v.run_id} that made v${v.version}`}
                      onClick={() =>
                        void commands.execute(SidebarCommands.openRun, {
                          runId: v.run_id
                        })
                      }
                    >
                      run
                    </button>
                  )}
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ul>
    </>
  );
}
