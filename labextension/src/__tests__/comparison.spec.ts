import {
  categoricalDimension,
  compareColumns,
  logDimension,
  IComparable,
  MAX_DIMENSIONS,
  MISSING_LABEL,
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
    // rule: numeric axes span the values
    expect(numericDimension('lr', [0.1, 0.3])).toEqual({
      label: 'lr',
      values: [0.1, 0.3],
      range: [0.1, 0.3]
    });
  });

  it('puts missing numbers below the range', () => {
    const dim = numericDimension('loss', [1, null, 3]);
    // rule: a run without the value is still drawn, just under the lowest value
    expect(dim.values[1]).toBeLessThan(1);
    expect(dim.range?.[0]).toBe(dim.values[1]);
  });

  it('widens a constant axis', () => {
    // rule: a single value still gets a non-empty range
    expect(numericDimension('x', [2, 2]).range).toEqual([1.5, 2.5]);
  });

  it('maps texts to sorted categories', () => {
    const dim = categoricalDimension('kernel', [
      'rbf',
      'linear',
      undefined,
      'rbf'
    ]);
    // rule: each distinct text is a tick; missing values get their own tick
    expect(dim.ticktext).toEqual([MISSING_LABEL, 'linear', 'rbf']);
    expect(dim.values).toEqual([2, 1, 0, 2]);
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
