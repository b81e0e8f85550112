/**
 * The side panel's state: what the server last said, which experiments are expanded, which runs
 * are selected. One Lumino poll refreshes it; views listen to `changed` and never fetch on their
 * own, so the panel makes one round of requests per tick however many sections are open.
 */

import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import {
  IComputeTarget,
  IDataAsset,
  IBatchEndpoint,
  IEndpoint,
  IExperiment,
  IPipelineRun,
  IRegisteredModel,
  IRunSummary,
  ISweep,
  IWorkspace,
  NbstudioAPI
} from './api';
import {
  PAGE_SIZE,
  panelFrequency,
  refreshPageSize,
  standbyFor
} from './polling';

/** The runs shown for one expanded experiment. */
export interface IExperimentRuns {
  runs: IRunSummary[];
  nextPageToken: string | null;
  loading: boolean;
  error: string | null;
  /** MLflow filter (``metrics.acc > 0.9``) and order (``metrics.acc DESC``) of the list. */
  filter?: string;
  orderBy?: string;
}

/** A list section's data and its last error. */
export interface ISection<T> {
  items: T[] | null;
  error: string | null;
}

function errorText(reason: unknown): string {
  if (reason instanceof Error) {
    return reason.message;
  }
  return String(reason);
}

function emptySection<T>(): ISection<T> {
  return { items: null, error: null };
}

export class PanelModel {
  constructor(options: PanelModel.IOptions) {
    this.api = options.api;
    this._poll = new Poll({
      auto: false,
      factory: () => this.refresh(),
      frequency: panelFrequency(),
      name: 'nbstudio:panel',
      standby: () => standbyFor(this._visible)
    });
  }

  readonly api: NbstudioAPI;

  /** Emitted whenever anything shown in the panel changed. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  workspace: IWorkspace | null = null;
  experiments: ISection<IExperiment> = emptySection();
  compute: ISection<IComputeTarget> = emptySection();
  sweeps: ISection<ISweep> = emptySection();
  pipelines: ISection<IPipelineRun> = emptySection();
  models: ISection<IRegisteredModel> = emptySection();
  endpoints: ISection<IEndpoint> = emptySection();
  batch: ISection<IBatchEndpoint> = emptySection();
  data: ISection<IDataAsset> = emptySection();
  /** Runs of each expanded experiment, by experiment id. */
  readonly expanded = new Map<string, IExperimentRuns>();
  /** Selected runs (for compare), by run id, kept up to date by refreshes. */
  readonly selected = new Map<string, IRunSummary>();

  get isDisposed(): boolean {
    return this._poll.isDisposed;
  }

  /** Start polling (once the panel is attached). */
  start(): void {
    void this._poll.start();
  }

  /** Tell the model whether the panel is on screen; polls stand by while it is not. */
  setVisible(visible: boolean): void {
    this._visible = visible;
    if (visible) {
      void this._poll.refresh();
    }
  }

  /** Refresh now instead of at the next tick. */
  refreshNow(): Promise<void> {
    return this._poll.refresh();
  }

  dispose(): void {
    this._poll.dispose();
    Signal.clearData(this);
  }

  /**
   * One refresh of everything shown. Rejects when the experiments list cannot be read (the poll
   * then backs off); errors of the other sections are shown in their section instead.
   */
  async refresh(): Promise<void> {
    const api = this.api;
    const expandedIds = [...this.expanded.keys()];
    const [
      workspace,
      experiments,
      compute,
      sweeps,
      pipelines,
      models,
      endpoints,
      batch,
      dataAssets,
      ...runs
    ] = await Promise.allSettled([
      this.workspace ? Promise.resolve(this.workspace) : api.workspace(),
      api.experiments(),
      api.compute(),
      api.sweeps(),
      api.pipelines(),
      api.models(),
      api.endpoints(),
      api.batchEndpoints(),
      api.dataAssets(),
      ...expandedIds.map(id =>
        api.runs({
          experiment_id: id,
          filter: this.expanded.get(id)?.filter,
          order_by: this.expanded.get(id)?.orderBy,
          page_size: refreshPageSize(this.expanded.get(id)?.runs.length ?? 0)
        })
      )
    ]);
    if (this._poll.isDisposed) {
      return;
    }
    if (workspace.status === 'fulfilled') {
      this.workspace = workspace.value;
    }
    this.experiments = PanelModel.settle(
      this.experiments,
      experiments,
      v => v.experiments
    );
    this.compute = PanelModel.settle(this.compute, compute, v => v.targets);
    this.sweeps = PanelModel.settle(this.sweeps, sweeps, v => v.sweeps);
    this.pipelines = PanelModel.settle(
      this.pipelines,
      pipelines,
      v => v.pipelines
    );
    this.models = PanelModel.settle(this.models, models, v => v.models);
    this.endpoints = PanelModel.settle(
      this.endpoints,
      endpoints,
      v => v.endpoints
    );
    this.batch = PanelModel.settle(this.batch, batch, v => v.endpoints);
    this.data = PanelModel.settle(this.data, dataAssets, v => v.assets);
    expandedIds.forEach((id, i) => {
      const entry = this.expanded.get(id);
      const result = runs[i];
      if (!entry) {
        return; // collapsed meanwhile
      }
      if (result.status === 'fulfilled') {
        const page = result.value;
        // A last page holds every run left: runs beyond it were deleted (or no longer match).
        const kept =
          page.next_page_token === null
            ? []
            : entry.runs.slice(page.runs.length);
        const fresh = new Set(page.runs.map(r => r.run_id));
        entry.runs = [...page.runs, ...kept.filter(r => !fresh.has(r.run_id))];
        if (entry.runs.length <= page.runs.length) {
          entry.nextPageToken = page.next_page_token;
        }
        entry.error = null;
        this._updateSelection(page.runs);
      } else {
        entry.error = errorText(result.reason);
      }
    });
    this._changed.emit();
    if (experiments.status === 'rejected') {
      throw experiments.reason;
    }
  }

  /** Expand or collapse an experiment; expanding loads its newest runs at once. */
  async toggleExperiment(experimentId: string): Promise<void> {
    if (this.expanded.has(experimentId)) {
      this.expanded.delete(experimentId);
      this._changed.emit();
      return;
    }
    const entry: IExperimentRuns = {
      runs: [],
      nextPageToken: null,
      loading: true,
      error: null
    };
    this.expanded.set(experimentId, entry);
    this._changed.emit();
    await this._loadPage(experimentId, entry, null);
  }

  /** List an expanded experiment's runs matching an MLflow filter, in an MLflow order. */
  async searchRuns(
    experimentId: string,
    filter: string,
    orderBy: string
  ): Promise<void> {
    const entry = this.expanded.get(experimentId);
    if (!entry) {
      return;
    }
    Object.assign(entry, {
      filter,
      orderBy,
      runs: [],
      nextPageToken: null,
      loading: true,
      error: null
    });
    this._changed.emit();
    await this._loadPage(experimentId, entry, null);
  }

  /** Load the next page of an expanded experiment's runs. */
  async loadMore(experimentId: string): Promise<void> {
    const entry = this.expanded.get(experimentId);
    if (!entry || entry.loading || !entry.nextPageToken) {
      return;
    }
    entry.loading = true;
    this._changed.emit();
    await this._loadPage(experimentId, entry, entry.nextPageToken);
  }

  /**
   * Up to ``limit`` newest runs of an experiment (for "compare all"), read in pages of the API's
   * largest size.
   */
  async allRuns(experimentId: string, limit: number): Promise<IRunSummary[]> {
    const out: IRunSummary[] = [];
    let token: string | null = null;
    do {
      const page = await this.api.runs({
        experiment_id: experimentId,
        page_size: Math.min(500, limit - out.length),
        page_token: token
      });
      out.push(...page.runs);
      token = page.next_page_token;
    } while (token && out.length < limit);
    return out;
  }

  /** Start or stop a compute target, then refresh so its new state shows. */
  async computeAction(name: string, action: 'start' | 'stop'): Promise<void> {
    try {
      await this.api.computeAction(name, action);
    } catch (reason) {
      this.compute = { ...this.compute, error: errorText(reason) };
      this._changed.emit();
      return;
    }
    await this.refreshNow();
  }

  /** Select or unselect a run for comparison. */
  toggleSelected(run: IRunSummary): void {
    if (this.selected.has(run.run_id)) {
      this.selected.delete(run.run_id);
    } else {
      this.selected.set(run.run_id, run);
    }
    this._changed.emit();
  }

  clearSelection(): void {
    this.selected.clear();
    this._changed.emit();
  }

  private async _loadPage(
    experimentId: string,
    entry: IExperimentRuns,
    token: string | null
  ): Promise<void> {
    try {
      const page = await this.api.runs({
        experiment_id: experimentId,
        filter: entry.filter,
        order_by: entry.orderBy,
        page_size: PAGE_SIZE,
        page_token: token
      });
      const known = new Set(entry.runs.map(r => r.run_id));
      entry.runs = [
        ...entry.runs,
        ...page.runs.filter(r => !known.has(r.run_id))
      ];
      entry.nextPageToken = page.next_page_token;
      entry.error = null;
    } catch (reason) {
      entry.error = errorText(reason);
    } finally {
      entry.loading = false;
      this._changed.emit();
    }
  }

  private _updateSelection(runs: IRunSummary[]): void {
    for (const run of runs) {
      if (this.selected.has(run.run_id)) {
        this.selected.set(run.run_id, run);
      }
    }
  }

  /** A section after a request: the new items, or the previous ones and the error. */
  private static settle<R, T>(
    previous: ISection<T>,
    result: PromiseSettledResult<R>,
    pick: (value: R) => T[]
  ): ISection<T> {
    return result.status === 'fulfilled'
      ? { items: pick(result.value) ?? [], error: null }
      : { items: previous.items, error: errorText(result.reason) };
  }

  private _poll: Poll;
  private _visible = false;
  private _changed = new Signal<this, void>(this);
}

export namespace PanelModel {
  export interface IOptions {
    api: NbstudioAPI;
  }
}
