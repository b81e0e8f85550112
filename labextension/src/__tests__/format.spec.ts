import {
  formatBytes,
  formatParam,
  formatDuration,
  formatTime,
  formatValue,
  isActiveStatus,
  runDuration
} from '../format';

describe('formatDuration', () => {
  it.each([
    [null, '—'],
    [NaN, '—'],
    [0.25, '250 ms'],
    [4.26, '4.2 s'],
    [42.9, '42 s'],
    [187, '3m 07s'],
    [7500, '2h 05m'],
    [273600, '3d 04h']
  ])('%p seconds -> %p', (seconds, text) => {
    // rule: every duration reads in its largest two units
    expect(formatDuration(seconds as number | null)).toBe(text);
  });
});

describe('formatValue', () => {
  it.each([
    [undefined, '—'],
    [3, '3'],
    [-12, '-12'],
    [0.93125, '0.9313'],
    [0.5, '0.5'],
    [1234.5678, '1235'],
    [0.000012346, '1.235e-5'],
    [12345678.9, '1.235e+7'],
    [2e-5, '2e-5'],
    [NaN, 'NaN'],
    [Infinity, '∞'],
    [-Infinity, '-∞']
  ])('%p -> %p', (value, text) => {
    // rule: four significant digits, exponents only for very large or small values
    expect(formatValue(value as number | undefined)).toBe(text);
  });
});

describe('formatTime', () => {
  const now = Date.UTC(2026, 10, 23, 12, 0, 0);
  it.each([
    [now - 5000, 'just now'],
    [now - 5 * 60000, '5 min ago'],
    [now - 3 * 3600000, '3 h ago']
  ])('%p -> %p', (ms, text) => {
    // rule: the last day is relative to now
    expect(formatTime(ms, now)).toBe(text);
  });

  it('shows a date beyond a day', () => {
    // rule: older times are an absolute date and time
    expect(formatTime(now - 3 * 86400000, now)).toMatch(
      /^2026-11-2\d \d\d:\d\d$/
    );
  });

  it('has a placeholder for no time', () => {
    // rule: a missing time is a dash, not "NaN"
    expect(formatTime(null, now)).toBe('—');
  });
});

describe('runDuration', () => {
  const now = 1_000_000;
  it('uses the server duration once known', () => {
    // rule: a finished run's duration is the server's
    expect(
      runDuration(
        { status: 'FINISHED', start_time: 0, end_time: 5000, duration: 4.5 },
        now
      )
    ).toBe(4.5);
  });

  it('ticks while running', () => {
    // rule: a RUNNING run's duration is the time since it started
    expect(
      runDuration(
        {
          status: 'RUNNING',
          start_time: now - 12000,
          end_time: null,
          duration: null
        },
        now
      )
    ).toBe(12);
  });

  it('is unknown for an ended run without end time', () => {
    // rule: a terminal run never ticks
    expect(
      runDuration(
        { status: 'FAILED', start_time: 0, end_time: null, duration: null },
        now
      )
    ).toBeNull();
  });
});

describe('isActiveStatus', () => {
  it.each([
    ['RUNNING', true],
    ['SCHEDULED', true],
    ['FINISHED', false],
    ['FAILED', false],
    ['KILLED', false]
  ])('%s -> %p', (status, active) => {
    // rule: only FINISHED, FAILED and KILLED are final
    expect(isActiveStatus(status)).toBe(active);
  });
});

describe('formatBytes', () => {
  it.each([
    [null, ''],
    [512, '512 B'],
    [1536, '1.5 KB'],
    [12 * 1024 * 1024, '12 MB']
  ])('%p -> %p', (size, text) => {
    // rule: binary units, one decimal at most
    expect(formatBytes(size as number | null)).toBe(text);
  });
});

describe('formatParam', () => {
  it.each([
    [undefined, '—'],
    ['rbf', 'rbf'],
    ['0.1', '0.1'],
    ['0.04144551011003032', '0.04145'],
    ['123456789012', '1.235e+11'],
    ['a-long-text-value', 'a-long-text-value']
  ])('%p -> %p', (text, shown) => {
    // rule: params are shown as given, except long numbers which are shortened
    expect(formatParam(text)).toBe(shown);
  });
});
