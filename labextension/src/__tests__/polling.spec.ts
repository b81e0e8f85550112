import {
  keepPollingRun,
  MAX_BACKOFF,
  needsHistoryRefresh,
  panelFrequency,
  POLL_INTERVAL,
  refreshPageSize,
  standbyFor
} from '../polling';

describe('panel polling', () => {
  it('polls about every two seconds with a capped backoff', () => {
    // rule: ~2 s while visible, backing off on errors up to a minute
    expect(panelFrequency()).toEqual({
      interval: 2000,
      backoff: true,
      max: 60000
    });
    expect(POLL_INTERVAL).toBe(2000);
    expect(MAX_BACKOFF).toBe(60000);
  });

  it.each([
    [true, 'when-hidden'],
    [false, true]
  ])('visible=%p -> standby %p', (visible, standby) => {
    // rule: a hidden panel never polls; a visible one waits while the browser tab is hidden
    expect(standbyFor(visible)).toBe(standby);
  });

  it.each([
    [0, 50],
    [30, 50],
    [120, 120],
    [5000, 500]
  ])('%p loaded runs -> refresh page of %p', (loaded, size) => {
    // rule: a refresh re-reads every loaded run, within the API's 1..500 page size
    expect(refreshPageSize(loaded)).toBe(size);
  });
});

describe('run view polling', () => {
  const finished = { status: 'FINISHED', metrics: { loss: 0.1 } };

  it.each([
    ['first load', null, finished, true],
    [
      'still running',
      { status: 'RUNNING', metrics: { loss: 1 } },
      { status: 'RUNNING', metrics: { loss: 1 } },
      true
    ],
    [
      'just finished',
      { status: 'RUNNING', metrics: { loss: 0.1 } },
      finished,
      true
    ],
    [
      'metric changed',
      { status: 'FINISHED', metrics: { loss: 0.2 } },
      finished,
      true
    ],
    ['metric added', { status: 'FINISHED', metrics: {} }, finished, true],
    [
      'nothing changed',
      finished,
      { status: 'FINISHED', metrics: { loss: 0.1 } },
      false
    ]
  ])('%s', (_, previous, next, refresh) => {
    // rule: histories are re-read only when they may have changed
    expect(needsHistoryRefresh(previous, next)).toBe(refresh);
  });

  it.each([
    ['RUNNING', true],
    ['SCHEDULED', true],
    ['FINISHED', false],
    ['FAILED', false],
    ['KILLED', false]
  ])('%s -> keep polling %p', (status, keep) => {
    // rule: a run view stops polling once its run has ended
    expect(keepPollingRun(status)).toBe(keep);
  });
});
