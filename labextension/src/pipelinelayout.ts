/**
 * The pipeline graph laid out for drawing: steps and data edges from `GET pipelines/<run id>`
 * placed left to right by dagre, each node carrying its state's colour and a recycle mark when
 * the step was reused from the cache. Pure (no DOM, no React) so jest can time it.
 */

import * as dagre from '@dagrejs/dagre';

import { IPipelineEdge, IPipelineStep } from './api';

/** Size of a drawn step, in pixels (the view's node style uses the same). */
export const NODE_WIDTH = 220;
export const NODE_HEIGHT = 48;

/** The mark shown on a step reused from an earlier run. */
export const RECYCLE = '\u267b';

/** A step placed on the canvas (top-left corner, as @xyflow/react wants it). */
export interface ILaidNode {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
  state: string;
  reused: boolean;
  label: string;
  runId: string | null;
  colour: string;
  className: string;
}

/** One arrow between two steps (several data edges between the same pair become one). */
export interface ILaidEdge {
  id: string;
  source: string;
  target: string;
  label: string;
}

export interface IPipelineLayout {
  nodes: ILaidNode[];
  edges: ILaidEdge[];
  width: number;
  height: number;
}

/** The fill of a step by state: JupyterLab theme colours, so dark themes follow. */
export function stateColour(state: string): string {
  switch (state) {
    case 'finished':
      return 'var(--jp-success-color1)';
    case 'reused':
      return 'var(--jp-success-color3)';
    case 'running':
      return 'var(--jp-brand-color1)';
    case 'failed':
      return 'var(--jp-error-color1)';
    case 'pending':
      return 'var(--jp-warn-color2)';
    default:
      return 'var(--jp-layout-color3)';
  }
}

/** A CSS-class-safe state name (states come from the server; keep classes predictable). */
function stateClass(state: string): string {
  return state.replace(/[^a-zA-Z0-9-]/g, '-') || 'unknown';
}

/** The arrows: data edges plus plain `upstream` orderings, one per pair, only between known steps. */
export function pipelineEdges(
  steps: readonly IPipelineStep[],
  edges: readonly IPipelineEdge[]
): ILaidEdge[] {
  const known = new Set(steps.map(s => s.name));
  const byPair = new Map<string, ILaidEdge>();
  const add = (source: string, target: string, label: string): void => {
    if (!known.has(source) || !known.has(target) || source === target) {
      return;
    }
    const id = `${source}->${target}`;
    const edge = byPair.get(id);
    if (!edge) {
      byPair.set(id, { id, source, target, label });
    } else if (label && !edge.label.split(', ').includes(label)) {
      edge.label = edge.label ? `${edge.label}, ${label}` : label;
    }
  };
  for (const edge of edges) {
    add(edge.from, edge.to, edge.output ?? '');
  }
  for (const step of steps) {
    for (const up of step.upstream ?? []) {
      add(up, step.name, '');
    }
  }
  return [...byPair.values()];
}

/** Place every step with dagre (left to right) and give it its colour, class and label. */
export function layoutPipeline(
  steps: readonly IPipelineStep[],
  edges: readonly IPipelineEdge[]
): IPipelineLayout {
  const laidEdges = pipelineEdges(steps, edges);
  const g = new dagre.graphlib.Graph();
  g.setGraph({
    rankdir: 'LR',
    nodesep: 24,
    ranksep: 80,
    marginx: 8,
    marginy: 8
  });
  g.setDefaultEdgeLabel(() => ({}));
  for (const step of steps) {
    g.setNode(step.name, { width: NODE_WIDTH, height: NODE_HEIGHT });
  }
  for (const edge of laidEdges) {
    g.setEdge(edge.source, edge.target);
  }
  dagre.layout(g);
  const nodes = steps.map(step => {
    const placed = g.node(step.name);
    const reused = step.state === 'reused' || Boolean(step.reused_from);
    return {
      id: step.name,
      x: placed.x - NODE_WIDTH / 2,
      y: placed.y - NODE_HEIGHT / 2,
      width: NODE_WIDTH,
      height: NODE_HEIGHT,
      state: step.state,
      reused,
      label: reused ? `${RECYCLE} ${step.name}` : step.name,
      runId: step.run_id ?? null,
      colour: stateColour(step.state),
      className: `nbs-pipeline-node nbs-step-${stateClass(step.state)}${reused ? ' nbs-step-reused-mark' : ''}`
    };
  });
  const size = g.graph();
  return {
    nodes,
    edges: laidEdges,
    width: size.width ?? 0,
    height: size.height ?? 0
  };
}
