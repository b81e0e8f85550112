/**
 * Typed client of the nbstudio REST API (see API.md): one interface per answer, one method per
 * route, every call through `requestAPI`.
 */

import { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from './request';

export interface IWorkspace {
  root: string;
  tracking_uri: string;
  artifact_root: string;
  default_experiment: string;
  embedded_store: boolean;
  version: string;
}

export interface IExperiment {
  experiment_id: string;
  name: string;
  run_count: number;
  last_activity: number | null;
  lifecycle_stage: string;
}

export interface IPrimaryMetric {
  key: string;
  value: number;
}

export interface IRunSummary {
  run_id: string;
  run_name: string;
  experiment_id: string;
  status: string;
  start_time: number | null;
  end_time: number | null;
  duration: number | null;
  params: Record<string, string>;
  metrics: Record<string, number>;
  parent_run_id: string | null;
  primary_metric: IPrimaryMetric | null;
}

export interface IRunDetail extends IRunSummary {
  tags: Record<string, string>;
  notebook: string | null;
  source_name: string | null;
}

/** `GET runs/<id>/state`: a run's status now, runs of dead local kernels ended first. */
export interface IRunState {
  run_id: string;
  status: string;
  end_time: number | null;
  terminated_by: string | null;
  reaped: boolean;
}

/** `GET runs/<id>/models`: a model the run logged, and the registry versions made from it. */
export interface ILoggedModel {
  model_id: string;
  name: string;
  uri: string;
  registered: string[];
}

export interface IArtifactEntry {
  path: string;
  is_dir: boolean;
  file_size: number | null;
  /** A link leaving the run's artifact folder: never followed, no size, no target. */
  is_link?: boolean;
}

export interface IRunResponse {
  run: IRunDetail;
  artifacts: IArtifactEntry[];
  children: IRunSummary[];
}

export interface IRunsPage {
  runs: IRunSummary[];
  next_page_token: string | null;
}

export interface IMetricPoint {
  step: number;
  timestamp: number;
  value: number;
}

export interface IMetricHistory {
  key: string;
  total_points: number;
  downsampled: boolean;
  points: IMetricPoint[];
}

export interface IArtifactPreview {
  path: string;
  kind: 'text' | 'image' | 'binary';
  size: number;
  truncated: boolean;
  text?: string;
  data_url?: string;
}

export interface IModelVersion {
  version: string | number;
  run_id: string | null;
  status: string;
  source: string;
  creation_timestamp: number | null;
  aliases: string[];
}

export interface IRegisteredModel {
  name: string;
  description: string | null;
  aliases: Record<string, string | number>;
  versions: IModelVersion[];
}

/** A compute target (`nbstudio.compute.api.list_targets()`); null where a field does not apply. */
export interface IComputeTarget {
  name: string;
  kind: 'local' | 'cluster' | 'attached' | string;
  state: string;
  reason?: string | null;
  address?: string | null;
  dashboard_link?: string | null;
  min_nodes?: number | null;
  max_nodes?: number | null;
  nodes?: number | null;
  starting_nodes?: number | null;
  busy_nodes?: number | null;
  cores?: number | null;
  memory?: number | null;
  tasks?: number | null;
  queued?: number | null;
  actions?: string[];
  [key: string]: unknown;
}

export interface ISweepCounts {
  queued: number;
  running: number;
  finished: number;
  killed: number;
  failed: number;
}

export interface ISweep {
  run_id: string;
  run_name: string;
  experiment_id: string;
  status: string;
  goal: 'maximize' | 'minimize';
  primary_metric: string;
  counts: ISweepCounts;
  max_total_trials: number | null;
  best: {
    value: number;
    run_id: string;
    params: Record<string, unknown>;
  } | null;
  start_time: number | null;
}

/** A pipeline run: a parent run tagged nbstudio.pipeline (see nbstudio.pipelines.history). */
export interface IPipelineRun {
  run_id: string;
  run_name: string | null;
  pipeline: string;
  status: string;
  start_time: number | null;
  duration: number | null;
  steps_done: number;
  steps_total: number;
  reused: number;
  failed_step: string | null;
  experiment_id: string;
}

/** One step of a pipeline run (`GET pipelines/<run id>`; nbstudio.pipelines.history.run_detail). */
export interface IPipelineStep {
  name: string;
  component?: string;
  /** finished, reused, failed, running, pending or not-started. */
  state: string;
  run_id?: string | null;
  upstream: string[];
  outputs?: string[];
  attempt?: number;
  reused_from?: string | null;
  duration?: number | null;
}

/** A data edge of a pipeline graph: output `output` of step `from` feeds input `input` of `to`. */
export interface IPipelineEdge {
  from: string;
  to: string;
  output?: string;
  input?: string;
}

/** A pipeline run with its graph and each step's state. */
export interface IPipelineDetail extends IPipelineRun {
  graph: { steps: IPipelineStep[]; edges: IPipelineEdge[] };
}

/** An online endpoint; its full shape comes from `nbstudio.endpoints.api.list_endpoints()`. */
/** An online endpoint (`GET endpoints`; `nbstudio.endpoints.api.list_endpoints`). */
export interface IEndpoint {
  name: string;
  state: 'starting' | 'running' | 'stopped' | 'failed' | string;
  reason: string | null;
  url: string | null;
  port: number | null;
  pid: number | null;
  description: string;
  created: number;
  traffic: Record<string, number>;
  mirror: Record<string, number>;
  metrics: IEndpointTotals;
  deployments: IEndpointDeployment[];
}

/** An endpoint's request figures over all its deployments (all time; rate: last minute). */
export interface IEndpointTotals {
  requests: number;
  failures: number;
  client_errors: number;
  rate: number;
}

/** One deployment of an endpoint: a registered model version with its share of traffic. */
export interface IEndpointDeployment {
  name: string;
  model: string;
  model_name: string;
  model_version: string;
  model_uri: string;
  state: string;
  traffic: number;
  mirror: number;
  pid: number | null;
  error: string | null;
  restarts: number;
  ready_since: number | null;
  created: number | null;
  metrics: IDeploymentFigures;
  /** Share of requests whose inputs are kept for drift checks (0: off). */
  collect_inputs: number;
}

/** A deployment's figures; empty before its first request. */
export interface IDeploymentFigures {
  requests?: number;
  failures?: number;
  client_errors?: number;
  mirrored?: number;
  rate?: number;
  latency_ms?: Record<string, number> | null;
  last_request?: number | null;
}

/** One immutable version of a data asset (`nbstudio.data.versions.DataVersion.to_dict()`). */
export interface IDataVersion {
  name: string;
  version: number;
  type: 'uri_file' | 'uri_folder' | 'mltable' | string;
  uri: string;
  digest: string;
  size: number;
  files: number;
  hash_mode: string;
  datastore: string | null;
  produced_by: string | null;
  description: string;
  archived: boolean;
  created: number;
  tags: Record<string, string>;
}

/** The latest job of a batch endpoint (a run). */
export interface IBatchJobSummary {
  run_id: string;
  status: string;
  input: string | null;
  rows_scored: number | null;
  output: string | null;
}

/** A batch endpoint (`GET batch`; `nbstudio.batch.api.list_endpoints`). */
export interface IBatchEndpoint {
  name: string;
  model: string;
  compute: string;
  mini_batch_size: number;
  max_concurrency: number;
  output_action: string;
  error_threshold: number;
  retries: number;
  created: number;
  last_job: IBatchJobSummary | null;
}

/** A data asset: its latest live version plus counts (`GET data`). */
export interface IDataAsset extends IDataVersion {
  latest: number;
  version_count: number;
  all_archived: boolean;
}

/** A run as lineage lists it. */
export interface ILineageRun {
  run_id: string;
  run_name: string | null;
  experiment_id?: string;
  status: string;
  start_time?: number | null;
  context?: string;
}

/** A version with the runs that read it and the run that wrote it (`GET data/N/versions/V`). */
export interface IDataVersionDetail extends IDataVersion {
  used_by: ILineageRun[];
  produced_by_run: ILineageRun | null;
}

/** A data input or output of a run. */
export interface IRunDataItem {
  name: string;
  version: number | null;
  digest: string;
  type: string | null;
  size: number | null;
  uri: string | null;
  context?: string;
}

/** A run's data inputs and outputs (`GET runs/<id>/data`). */
export interface IRunData {
  run_id: string;
  inputs: IRunDataItem[];
  outputs: IRunDataItem[];
}

/** Body of `POST compute/<name>/scale` (schema `body.compute.scale` of openapi.json). */
export interface IComputeScaleBody {
  nodes?: number;
  min_nodes?: number;
  max_nodes?: number;
}

/** `GET/PATCH runs/<id>/meta`: what the run view edits (name, description, tags, deletion). */
export interface IRunMeta {
  run_id: string;
  run_name: string;
  lifecycle_stage: 'active' | 'deleted' | string;
  description: string;
  tags: Record<string, string>;
}

/** Body of `PATCH runs/<id>/meta` (schema RUN_EDIT_BODY); at least one field. */
export interface IRunEdit {
  name?: string;
  description?: string;
  set_tags?: Record<string, string>;
  delete_tags?: string[];
}

/** One trial of a sweep or AutoML job (`GET runs/<id>/trials`). */
export interface ITrial {
  number: number;
  run_id: string;
  run_name: string;
  status: string;
  /** finished, killed (stopped early by a policy or a limit), failed, running, interrupted. */
  state: string;
  terminated_by: string | null;
  /** The AutoML trial's estimator (FLAML learner); null for a sweep's trial. */
  estimator: string | null;
  params: Record<string, string>;
  metrics: Record<string, number>;
  value: number | null;
  primary_metric: IPrimaryMetric | null;
  start_time: number | null;
  end_time: number | null;
}

/** The trials page of a sweep or AutoML job. */
export interface ITrials {
  run_id: string;
  run_name: string;
  experiment_id: string;
  status: string;
  kind: 'sweep' | 'automl';
  goal: 'maximize' | 'minimize';
  primary_metric: string;
  /** The params searched (a sweep's space; every param of an AutoML job's trials). */
  space: string[];
  trials: ITrial[];
}

/** Query of `GET runs`. */
export interface IRunsQuery {
  experiment_id: string;
  filter?: string;
  order_by?: string;
  page_size?: number;
  page_token?: string | null;
}

/** A query string from the defined values of ``query``. */
export function queryString(
  query: Record<string, string | number | null | undefined>
): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') {
      parts.push(
        `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`
      );
    }
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/** An artifact path with each segment URL-encoded, its slashes kept. */
export function encodePath(path: string): string {
  return path
    .split('/')
    .filter(part => part.length > 0)
    .map(encodeURIComponent)
    .join('/');
}

/** The nbstudio REST API, bound to a Jupyter server. */
export class NbstudioAPI {
  constructor(readonly serverSettings: ServerConnection.ISettings) {}

  private get<T>(endPoint: string): Promise<T> {
    return requestAPI<T>(endPoint, this.serverSettings);
  }

  workspace(): Promise<IWorkspace> {
    return this.get('workspace');
  }

  experiments(): Promise<{ experiments: IExperiment[] }> {
    return this.get('experiments');
  }

  runs(query: IRunsQuery): Promise<IRunsPage> {
    return this.get(`runs${queryString({ ...query })}`);
  }

  run(runId: string): Promise<IRunResponse> {
    return this.get(`runs/${encodeURIComponent(runId)}`);
  }

  runState(runId: string): Promise<IRunState> {
    return this.get(`runs/${encodeURIComponent(runId)}/state`);
  }

  runModels(runId: string): Promise<{ models: ILoggedModel[] }> {
    return this.get(`runs/${encodeURIComponent(runId)}/models`);
  }

  /** Register a model a run logged (`POST runs/<id>/models/<model id>/register`). */
  registerLoggedModel(
    runId: string,
    modelId: string,
    name: string
  ): Promise<{ name: string; version: string }> {
    return requestAPI(
      `runs/${encodeURIComponent(runId)}/models/${encodeURIComponent(modelId)}/register`,
      this.serverSettings,
      { method: 'POST', body: JSON.stringify({ name }) }
    );
  }

  metricHistory(
    runId: string,
    key: string,
    maxPoints?: number
  ): Promise<IMetricHistory> {
    return this.get(
      `runs/${encodeURIComponent(runId)}/metrics/${encodeURIComponent(key)}` +
        queryString({ max_points: maxPoints })
    );
  }

  artifact(runId: string, path: string): Promise<IArtifactPreview> {
    return this.get(
      `runs/${encodeURIComponent(runId)}/artifacts/${encodePath(path)}`
    );
  }

  models(): Promise<{ models: IRegisteredModel[] }> {
    return this.get('models');
  }

  compute(): Promise<{ targets: IComputeTarget[] }> {
    return this.get('compute');
  }

  /** Start or stop a compute target (`POST compute/<name>/<action>`). */
  computeAction(
    name: string,
    action: 'start' | 'stop'
  ): Promise<IComputeTarget> {
    return requestAPI<IComputeTarget>(
      `compute/${encodeURIComponent(name)}/${action}`,
      this.serverSettings,
      { method: 'POST', body: JSON.stringify({}) }
    );
  }

  sweeps(): Promise<{ sweeps: ISweep[] }> {
    return this.get('sweeps');
  }

  pipelines(): Promise<{ pipelines: IPipelineRun[] }> {
    return this.get('pipelines');
  }

  pipeline(runId: string): Promise<IPipelineDetail> {
    return this.get(`pipelines/${encodeURIComponent(runId)}`);
  }

  endpoints(): Promise<{ endpoints: IEndpoint[] }> {
    return this.get('endpoints');
  }

  batchEndpoints(): Promise<{ endpoints: IBatchEndpoint[] }> {
    return this.get('batch');
  }

  dataAssets(): Promise<{ assets: IDataAsset[] }> {
    return this.get('data');
  }

  dataVersions(name: string): Promise<{ versions: IDataVersion[] }> {
    return this.get(`data/${encodeURIComponent(name)}`);
  }

  dataVersion(
    name: string,
    version: number | string
  ): Promise<IDataVersionDetail> {
    return this.get(
      `data/${encodeURIComponent(name)}/versions/${encodeURIComponent(String(version))}`
    );
  }

  runData(runId: string): Promise<IRunData> {
    return this.get(`runs/${encodeURIComponent(runId)}/data`);
  }

  runMeta(runId: string): Promise<IRunMeta> {
    return this.get(`runs/${encodeURIComponent(runId)}/meta`);
  }

  /** Rename a run, set its description, add or remove tags (`PATCH runs/<id>/meta`). */
  editRun(runId: string, edit: IRunEdit): Promise<IRunMeta> {
    return requestAPI<IRunMeta>(
      `runs/${encodeURIComponent(runId)}/meta`,
      this.serverSettings,
      { method: 'PATCH', body: JSON.stringify(edit) }
    );
  }

  /** Delete (MLflow's soft delete) or restore a run (`POST runs/<id>/<action>`). */
  runAction(runId: string, action: 'delete' | 'restore'): Promise<IRunMeta> {
    return requestAPI<IRunMeta>(
      `runs/${encodeURIComponent(runId)}/${action}`,
      this.serverSettings,
      { method: 'POST', body: JSON.stringify({}) }
    );
  }

  deletedRuns(experimentId: string): Promise<{ runs: IRunSummary[] }> {
    return this.get(
      `experiments/${encodeURIComponent(experimentId)}/deleted-runs`
    );
  }

  trials(runId: string): Promise<ITrials> {
    return this.get(`runs/${encodeURIComponent(runId)}/trials`);
  }
}
