import { downsampleMinMax } from '../downsample';

function series(values: number[]): { step: number; value: number }[] {
  return values.map((value, step) => ({ step, value }));
}

describe('downsampleMinMax', () => {
  it('keeps short series as they are', () => {
    const points = series([1, 2, 3]);
    // rule: nothing to do when under the limit
    expect(downsampleMinMax(points, 10)).toEqual(points);
  });

  it('caps the number of points', () => {
    const points = series(
      Array.from({ length: 100000 }, (_, i) => Math.sin(i / 100))
    );
    const out = downsampleMinMax(points, 800);
    // rule: never more points than asked for
    expect(out.length).toBeLessThanOrEqual(800);
    expect(out.length).toBeGreaterThan(700);
  });

  it('keeps spikes, the first and the last point', () => {
    const values = Array.from({ length: 10000 }, () => 1);
    values[1234] = 99;
    values[7777] = -50;
    const out = downsampleMinMax(series(values), 100);
    // rule: a one-step spike survives downsampling (min/max, not averages)
    expect(out.map(p => p.value)).toContain(99);
    expect(out.map(p => p.value)).toContain(-50);
    // rule: the series keeps its ends
    expect(out[0].step).toBe(0);
    expect(out[out.length - 1].step).toBe(9999);
  });

  it('keeps step order', () => {
    const points = series(
      Array.from({ length: 5000 }, (_, i) => (i * 7919) % 101)
    );
    const steps = downsampleMinMax(points, 300).map(p => p.step);
    // rule: points come out in their original order
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
  });
});
