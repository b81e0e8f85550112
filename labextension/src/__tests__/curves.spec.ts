import { curvePlan, MAX_CURVE_METRICS, MAX_CURVE_RUNS } from '../curves';

function run(id: string, metrics: Record<string, number>) {
  return { run_id: id, params: {}, metrics, primary_metric: null };
}

describe('curvePlan', () => {
  it('charts every metric the runs have, a curve per run that has metrics', () => {
    const plan = curvePlan([
      run('a', { loss: 1, acc: 0.5 }),
      run('b', { loss: 2 }),
      run('c', {})
    ]);
    // rule: one chart per metric (sorted), runs without metrics draw no curve
    expect(plan.keys).toEqual(['acc', 'loss']);
    expect(plan.runs.map(r => r.run_id)).toEqual(['a', 'b']);
    expect(plan.omittedRuns).toBe(0);
  });

  it('stays bounded for large compares', () => {
    const runs = Array.from({ length: 50 }, (_, i) =>
      run(
        `r${i}`,
        Object.fromEntries([...Array(20)].map((_, k) => [`m${k}`, i]))
      )
    );
    const plan = curvePlan(runs);
    // rule: at most MAX_CURVE_RUNS curves and MAX_CURVE_METRICS charts, the rest counted
    expect(plan.runs.length).toBe(MAX_CURVE_RUNS);
    expect(plan.keys.length).toBe(MAX_CURVE_METRICS);
    expect(plan.omittedRuns).toBe(50 - MAX_CURVE_RUNS);
    expect(plan.omittedKeys).toBe(20 - MAX_CURVE_METRICS);
  });
});
