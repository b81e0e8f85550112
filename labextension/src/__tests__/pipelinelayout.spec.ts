import { IPipelineEdge, IPipelineStep } from '../api';
import {
  layoutPipeline,
  NODE_WIDTH,
  pipelineEdges,
  RECYCLE,
  stateColour
} from '../pipelinelayout';

function step(
  name: string,
  upstream: string[] = [],
  extra: Partial<IPipelineStep> = {}
): IPipelineStep {
  return { name, state: 'finished', upstream, run_id: `r-${name}`, ...extra };
}

/** prep -> (train_a, train_b) -> pick: the wine pipeline's shape. */
const DIAMOND: IPipelineStep[] = [
  step('prep', [], { state: 'reused', reused_from: 'old' }),
  step('train_a', ['prep']),
  step('train_b', ['prep'], { state: 'running' }),
  step('pick', ['train_a', 'train_b'], { state: 'pending', run_id: null })
];
const DIAMOND_EDGES: IPipelineEdge[] = [
  { from: 'prep', to: 'train_a', output: 'data', input: 'data' },
  { from: 'prep', to: 'train_a', output: 'labels', input: 'y' },
  { from: 'prep', to: 'train_b', output: 'data', input: 'data' },
  { from: 'train_a', to: 'pick', output: 'model', input: 'a' },
  { from: 'train_b', to: 'pick', output: 'model', input: 'b' }
];

describe('pipelineEdges', () => {
  it('merges data edges of one pair and keeps their output names', () => {
    const edges = pipelineEdges(DIAMOND, DIAMOND_EDGES);
    expect(edges.map(e => e.id)).toEqual([
      'prep->train_a',
      'prep->train_b',
      'train_a->pick',
      'train_b->pick'
    ]);
    expect(edges[0].label).toBe('data, labels');
  });

  it('adds upstream orderings without data and drops unknown or self edges', () => {
    const steps = [step('a'), step('b', ['a', 'ghost'])];
    const edges = pipelineEdges(steps, [
      { from: 'b', to: 'b' },
      { from: 'nowhere', to: 'a' }
    ]);
    expect(edges).toEqual([
      { id: 'a->b', source: 'a', target: 'b', label: '' }
    ]);
  });
});

describe('layoutPipeline', () => {
  it('places upstream steps left of their consumers, branches apart', () => {
    const { nodes, width, height } = layoutPipeline(DIAMOND, DIAMOND_EDGES);
    const at = Object.fromEntries(nodes.map(n => [n.id, n]));
    expect(at.prep.x + NODE_WIDTH).toBeLessThanOrEqual(at.train_a.x);
    expect(at.train_a.x + NODE_WIDTH).toBeLessThanOrEqual(at.pick.x);
    expect(at.train_a.x).toBe(at.train_b.x);
    expect(at.train_a.y).not.toBe(at.train_b.y);
    expect(width).toBeGreaterThanOrEqual(3 * NODE_WIDTH);
    expect(height).toBeGreaterThan(0);
  });

  it('colours by state and marks reused steps with the recycle sign', () => {
    const { nodes } = layoutPipeline(DIAMOND, DIAMOND_EDGES);
    const at = Object.fromEntries(nodes.map(n => [n.id, n]));
    expect(at.prep.reused).toBe(true);
    expect(at.prep.label).toBe(`${RECYCLE} prep`);
    expect(at.prep.className).toContain('nbs-step-reused');
    expect(at.train_a.reused).toBe(false);
    expect(at.train_a.label).toBe('train_a');
    expect(at.train_b.className).toContain('nbs-step-running');
    expect(at.pick.runId).toBeNull();
    expect(at.train_b.colour).toBe(stateColour('running'));
    expect(stateColour('failed')).not.toBe(stateColour('finished'));
    expect(stateColour('weird')).toBe(stateColour('not-started'));
  });

  it('keeps odd state names out of class names', () => {
    const { nodes } = layoutPipeline([step('x', [], { state: 'a b"<' })], []);
    expect(nodes[0].className).toMatch(/^nbs-pipeline-node nbs-step-a-b--$/);
  });

  it('lays out 50 steps (timed: target 100 ms)', () => {
    // five parallel chains of ten steps, each step also fed by the one two ranks back
    const steps: IPipelineStep[] = [];
    for (let chain = 0; chain < 5; chain++) {
      for (let i = 0; i < 10; i++) {
        const up = [];
        if (i > 0) {
          up.push(`s${chain}_${i - 1}`);
        }
        if (i > 1) {
          up.push(`s${(chain + 1) % 5}_${i - 2}`);
        }
        steps.push(step(`s${chain}_${i}`, up));
      }
    }
    layoutPipeline(steps.slice(0, 5), []); // warm the module once
    // the median of five, printed against the 100 ms target; the assertion is a loose
    // ceiling only (the machine is shared), the figure is what gets reported
    const times: number[] = [];
    let laid = layoutPipeline([], []);
    for (let round = 0; round < 5; round++) {
      const started = performance.now();
      laid = layoutPipeline(steps, []);
      times.push(performance.now() - started);
    }
    const median = [...times].sort((a, b) => a - b)[2];
    console.log(
      `pipeline layout of 50 nodes, ${laid.edges.length} edges: median ${median.toFixed(1)} ms ` +
        `(runs ${times.map(t => t.toFixed(0)).join(', ')}; issue target <= 100 ms)`
    );
    expect(laid.nodes).toHaveLength(50);
    expect(new Set(laid.nodes.map(n => `${n.x},${n.y}`)).size).toBe(50);
    expect(median).toBeLessThanOrEqual(1000);
  });
});
