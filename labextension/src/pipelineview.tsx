/**
 * The main-area graph of one pipeline run: its steps laid out by dagre (pipelinelayout.ts) and
 * drawn by @xyflow/react, coloured by state, ♻ on reused steps. It polls
 * ``GET pipelines/<run id>`` while the run is active and on screen (PollingView) and stops once
 * the final state is drawn. Clicking a step opens its run.
 */

import { Edge, MarkerType, Node, Position, ReactFlow } from '@xyflow/react';
import * as React from 'react';

import { IPipelineDetail, NbstudioAPI } from './api';
import { ErrorLine, StatusBadge } from './components';
import { formatDuration } from './format';
import { ILaidNode, layoutPipeline } from './pipelinelayout';
import { keepPollingRun } from './polling';
import { PollingView } from './pollingview';

export class PipelineView extends PollingView {
  constructor(options: PipelineView.IOptions) {
    super(`nbstudio:pipeline:${options.runId}`);
    this.runId = options.runId;
    this._options = options;
    this.addClass('nbs-pipelineview');
  }

  readonly runId: string;

  protected async load(): Promise<void> {
    try {
      this._detail = await this._options.api.pipeline(this.runId);
      this._error = null;
    } catch (reason) {
      this._error = reason instanceof Error ? reason.message : String(reason);
      this.update();
      throw reason;
    }
    this.finished = !keepPollingRun(this._detail.status);
    this.title.label = `Pipeline ${this._detail.run_name || this.runId.slice(0, 8)}`;
    this.update();
  }

  render(): JSX.Element {
    const detail = this._detail;
    if (!detail) {
      return (
        <div className="nbs-view">
          <ErrorLine error={this._error} />
          {!this._error && (
            <div className="nbs-note nbs-loading">
              Loading pipeline run {this.runId}…
            </div>
          )}
        </div>
      );
    }
    return (
      <PipelineGraph
        detail={detail}
        error={this._error}
        openRun={this._options.openRun}
      />
    );
  }

  private _options: PipelineView.IOptions;
  private _detail: IPipelineDetail | null = null;
  private _error: string | null = null;
}

export namespace PipelineView {
  export interface IOptions {
    api: NbstudioAPI;
    runId: string;
    openRun: (runId: string, name?: string) => void;
  }
}

function toFlowNode(node: ILaidNode): Node {
  return {
    id: node.id,
    position: { x: node.x, y: node.y },
    data: { label: node.label },
    className: node.className,
    sourcePosition: Position.Right,
    targetPosition: Position.Left,
    style: {
      width: node.width,
      height: node.height,
      background: node.colour,
      cursor: node.runId ? 'pointer' : 'default'
    },
    draggable: false,
    connectable: false,
    selectable: false,
    ariaLabel: `${node.id}: ${node.state}${node.reused ? ' (reused)' : ''}`,
    domAttributes: {
      title: `${node.id}: ${node.state}${node.runId ? ' · click to open its run' : ''}`
    }
  };
}

function PipelineGraph(props: {
  detail: IPipelineDetail;
  error: string | null;
  openRun: (runId: string, name?: string) => void;
}): JSX.Element {
  const { detail, openRun } = props;
  const { steps, edges } = detail.graph;
  const layout = React.useMemo(
    () => layoutPipeline(steps, edges),
    [JSON.stringify(detail.graph)]
  );
  const nodes = layout.nodes.map(toFlowNode);
  const flowEdges: Edge[] = layout.edges.map(edge => ({
    id: edge.id,
    source: edge.source,
    target: edge.target,
    label: edge.label || undefined,
    markerEnd: { type: MarkerType.ArrowClosed },
    animated: detail.status === 'RUNNING'
  }));
  const byId = new Map(layout.nodes.map(n => [n.id, n]));
  return (
    <div
      className="nbs-view nbs-pipeline-page"
      data-run-id={detail.run_id}
      data-status={detail.status}
    >
      <div className="nbs-view-header">
        <StatusBadge status={detail.status} />
        <h2 title={detail.run_name ?? detail.pipeline}>
          {detail.run_name || detail.pipeline}
        </h2>
        <span
          className="nbs-clickable nbs-note"
          title="Open the pipeline's parent run"
          onClick={() => openRun(detail.run_id, detail.run_name ?? undefined)}
        >
          run view
        </span>
      </div>
      <ErrorLine error={props.error} />
      <div className="nbs-pipeline-summary nbs-note">
        {detail.pipeline} · {detail.steps_done}/{detail.steps_total} steps done
        · {detail.reused} reused
        {detail.failed_step ? ` · failed at ${detail.failed_step}` : ''}
        {detail.duration !== null
          ? ` · ${formatDuration(detail.duration)}`
          : ''}
      </div>
      <div className="nbs-pipeline-graph">
        <ReactFlow
          nodes={nodes}
          edges={flowEdges}
          fitView
          fitViewOptions={{ maxZoom: 1 }}
          nodesDraggable={false}
          nodesConnectable={false}
          proOptions={{ hideAttribution: true }}
          onNodeClick={(_event, node) => {
            const runId = byId.get(node.id)?.runId;
            if (runId) {
              openRun(runId, node.id);
            }
          }}
        />
      </div>
    </div>
  );
}
