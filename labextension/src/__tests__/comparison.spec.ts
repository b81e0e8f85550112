import {
  categoricalDimension,
  comparedRuns,
  compareColumns,
  logDimension,
  IComparable,
  MAX_DIMENSIONS,
  MISSING_LABEL,
  niceTicks,
  numericDimension,
  parallelDimensions
} from '../comparison';

function run(
  id: string,
  params: Record<string, string>,
  metrics: Record<string, number>,
  primary: string | null = 'acc'
): IComparable {
  return {
    run_id: id,
    params,
    metrics,
    primary_metric:
      primary && primary in metrics
        ? { key: primary, value: metrics[primary] }
        : null
  };
}

describe('compareColumns', () => {
  it('lists params then metrics, sorted, with whether they differ', () => {
    const runs = [
      run('a', { lr: '0.1', seed: '1' }, { acc: 0.9, loss: 0.3 }),
      run('b', { lr: '0.2', seed: '1' }, { acc: 0.9 })
    ];
    // rule: params first, then metrics; a key missing in one run counts as differing
    expect(compareColumns(runs)).toEqual([
      { kind: 'param', key: 'lr', differs: true },
      { kind: 'param', key: 'seed', differs: false },
      { kind: 'metric', key: 'acc', differs: false },
      { kind: 'metric', key: 'loss', differs: true }
    ]);
  });
});

describe('dimensions', () => {
  it('keeps numeric values and their range', () => {
    const dim = numericDimension('lr', [0.1, 0.3]);
    // rule: numeric axes span the values, no more
    expect(dim.values).toEqual([0.1, 0.3]);
    expect(dim.range).toEqual([0.1, 0.3]);
    // rule: every tick labels a value inside the data's range
    expect(dim.tickvals?.length).toBeGreaterThan(1);
    expect(dim.tickvals?.every(t => t >= 0.1 && t <= 0.3)).toBe(true);
  });

  it('puts missing numbers on their own "missing" tick below a gap', () => {
    const dim = numericDimension('loss', [1, null, 3]);
    const missing = dim.values[1];
    // rule: a run without the value is drawn on a tick labelled "missing", not on a value
    expect(dim.ticktext?.[0]).toBe(MISSING_LABEL);
    expect(dim.tickvals?.[0]).toBe(missing);
    expect(dim.range?.[0]).toBe(missing);
    // rule: the other ticks are values of the data, and a gap separates them from "missing"
    const rest = dim.tickvals?.slice(1) ?? [];
    expect(rest.every(t => t >= 1 && t <= 3)).toBe(true);
    expect(missing).toBeLessThan(1 - 0.1 * (3 - 1));
  });

  it('gives a constant axis one tick at its value, not a range around it', () => {
    const dim = numericDimension('accuracy', [0.965, null, null]);
    // rule: a single value is labelled once; no tick outside the data (not 0.365..1.465)
    expect(dim.ticktext).toEqual([MISSING_LABEL, '0.965']);
    expect(dim.range?.[1]).toBeCloseTo(0.965, 5);
    expect(dim.range?.[1]).toBeLessThan(0.966);
    expect(dim.values[1]).toBeGreaterThan(0.96);
  });

  it.each([
    [0.1, 0.3],
    [-0.56, 0.54],
    [1e-5, 3e-5],
    [0, 1000],
    [17, 18]
  ])('nice ticks of [%p, %p] stay inside it', (lo, hi) => {
    const ticks = niceTicks(lo, hi);
    // rule: between 2 and 11 round ticks, all inside the data's range
    expect(ticks.length).toBeGreaterThanOrEqual(2);
    expect(ticks.length).toBeLessThanOrEqual(11);
    expect(ticks.every(t => t >= lo && t <= hi)).toBe(true);
  });

  it('maps texts to sorted categories', () => {
    const dim = categoricalDimension('kernel', [
      'rbf',
      'linear',
      undefined,
      'rbf'
    ]);
    // rule: each distinct text is a tick; missing values get their own tick below them
    expect(dim.ticktext).toEqual([MISSING_LABEL, 'linear', 'rbf']);
    expect(dim.tickvals).toEqual([-1, 0, 1]);
    expect(dim.values).toEqual([1, 0, -1, 1]);
  });

  it('has no "missing" category when every run has the param', () => {
    const dim = categoricalDimension('kernel', ['rbf', 'linear']);
    // rule: no "(none)" or "missing" tick for runs that all have the value
    expect(dim.ticktext).toEqual(['linear', 'rbf']);
    expect(dim.range).toEqual([0, 1]);
  });
});

describe('logDimension', () => {
  it('puts values spanning decades on a log scale with decade ticks', () => {
    const dim = logDimension('lr', [1e-4, 1e-2, 0.1]);
    // rule: log10 values, one tick per whole decade, labelled in the original units
    expect(dim?.label).toBe('lr (log)');
    expect(dim?.values.map(v => Math.round(v * 1000) / 1000)).toEqual([
      -4, -2, -1
    ]);
    expect(dim?.tickvals).toEqual([-4, -3, -2, -1]);
    expect(dim?.ticktext).toEqual(['1e-4', '1e-3', '1e-2', '1e-1']);
  });

  it.each([
    ['narrow span', [1, 50, 200]],
    ['zero or negative', [0, 1e-4, 10]],
    ['single value', [1e-4]]
  ])('keeps a linear axis for %s', (_, values) => {
    // rule: log scale only for positive values spanning at least three decades
    expect(logDimension('x', values as number[])).toBeNull();
  });
});

describe('comparedRuns', () => {
  it("compares a sweep's trials, not its parent", () => {
    const parent = { ...run('sweep', {}, { acc: 0.9 }), parent_run_id: null };
    const trials = [0.1, 10].map((gamma, i) => ({
      ...run(`t${i}`, { gamma: String(gamma) }, { acc: 0.8 + i / 10 }),
      parent_run_id: 'sweep'
    }));
    const { runs, parents } = comparedRuns([parent, ...trials]);
    // rule: the parent (no params) is left out, its trials are compared
    expect(runs.map(r => r.run_id)).toEqual(['t0', 't1']);
    expect(parents.map(r => r.run_id)).toEqual(['sweep']);
    const gamma = parallelDimensions(runs).dimensions.find(
      d => d.label === 'gamma'
    );
    // rule: so no "missing" tick and no axis below the trials' lowest gamma
    expect(gamma?.ticktext).not.toContain(MISSING_LABEL);
    expect(gamma?.range?.[0]).toBe(0.1);
  });

  it('keeps runs whose parent is not in the set', () => {
    const child = { ...run('c', { a: '1' }, {}), parent_run_id: 'elsewhere' };
    // rule: a nested run compared alone is compared
    expect(comparedRuns([child]).runs).toEqual([child]);
  });
});

describe('parallelDimensions', () => {
  it('drops constant params and colours by the shared primary metric', () => {
    const runs = [
      run('a', { lr: '0.1', kernel: 'rbf', seed: '1' }, { acc: 0.8 }),
      run('b', { lr: '0.01', kernel: 'linear', seed: '1' }, { acc: 0.9 })
    ];
    const chart = parallelDimensions(runs);
    // rule: varying params (numeric or categorical) then metrics; constant params are left out
    expect(chart.dimensions.map(d => d.label)).toEqual(['kernel', 'lr', 'acc']);
    expect(chart.dimensions[0].ticktext).toEqual(['linear', 'rbf']);
    // rule: colour is the primary metric when all runs share it
    expect(chart.colorKey).toBe('acc');
    expect(chart.colors).toEqual([0.8, 0.9]);
  });

  it('stays bounded with a thousand runs and many keys', () => {
    const runs = Array.from({ length: 1000 }, (_, i) =>
      run(
        `r${i}`,
        Object.fromEntries(
          Array.from({ length: 30 }, (_, k) => [`p${k}`, String(i % (k + 2))])
        ),
        { acc: i / 1000, loss: 1 - i / 1000 }
      )
    );
    const started = Date.now();
    const chart = parallelDimensions(runs);
    // rule: at most MAX_DIMENSIONS axes, one value per run on each
    expect(chart.dimensions.length).toBe(MAX_DIMENSIONS);
    expect(chart.dimensions.every(d => d.values.length === 1000)).toBe(true);
    // rule: preparing a thousand runs is instant
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('has no colour axis when runs disagree on the primary metric', () => {
    const runs = [
      run('a', {}, { acc: 1 }, 'acc'),
      run('b', {}, { acc: 1, f1: 2 }, 'f1')
    ];
    // rule: mixed primary metrics -> plain colour
    expect(parallelDimensions(runs).colorKey).toBeNull();
  });
});
