import { endedLine, headerRunId } from '../monitorlines';
import type { IRunState } from '../api';

const ID = '0123456789abcdef0123456789abcdef';

function state(status: string, terminatedBy: string | null = null): IRunState {
  return {
    run_id: ID,
    status,
    end_time: 1,
    terminated_by: terminatedBy,
    reaped: false
  };
}

describe('headerRunId', () => {
  it('reads the data attribute, else the id shown in older outputs', () => {
    // rule: data-run-id wins; an output saved before it still names its run in the text
    expect(headerRunId(ID, 'whatever')).toBe(ID);
    expect(headerRunId(undefined, `fit RUNNING 3 s ${ID}`)).toBe(ID);
    expect(headerRunId(undefined, 'fit RUNNING 3 s abc')).toBeNull();
  });
});

describe('endedLine', () => {
  it('says what happened to the kernel and how the run ended', () => {
    // rule: one line naming the event and the final state
    expect(endedLine('restarted', state('KILLED', 'kernel-died'))).toBe(
      'the kernel restarted: run ended KILLED'
    );
    expect(endedLine('died', state('KILLED'))).toBe(
      'the kernel died: run ended KILLED'
    );
  });

  it('explains a frozen output found when a notebook opens', () => {
    // rule: without a kernel event, the store's reason (a dead kernel) or a neutral line
    expect(endedLine(null, state('KILLED', 'kernel-died'))).toBe(
      'its kernel stopped while it ran: run ended KILLED'
    );
    expect(endedLine(null, state('FINISHED'))).toBe(
      'run ended FINISHED after this output was drawn'
    );
  });
});
