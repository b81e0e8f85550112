import { encodePath, queryString } from '../api';

describe('queryString', () => {
  it('encodes defined values only', () => {
    // rule: empty and missing values are left out; the rest are URL-encoded
    expect(
      queryString({
        experiment_id: '1',
        filter: 'metrics.m0 > 0.5',
        page_token: null,
        x: ''
      })
    ).toBe('?experiment_id=1&filter=metrics.m0%20%3E%200.5');
  });

  it('is empty for no values', () => {
    // rule: no dangling question mark
    expect(queryString({ a: undefined })).toBe('');
  });
});

describe('encodePath', () => {
  it.each([
    ['outputs/log.txt', 'outputs/log.txt'],
    ['plots/a b#1.png', 'plots/a%20b%231.png'],
    ['/leading//double/', 'leading/double']
  ])('%s -> %s', (path, encoded) => {
    // rule: each segment encoded, slashes kept, empty segments dropped
    expect(encodePath(path)).toBe(encoded);
  });
});
