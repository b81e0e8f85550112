/**
 * Pure logic of redrawing a frozen run monitor: which run a header shows, and the line that says
 * what happened to it (see monitorstatus.ts).
 */

import type { IRunState } from './api';

/** A run id in a monitor header: its data attribute, or the id shown in it (older outputs). */
export function headerRunId(
  dataRunId: string | undefined,
  text: string
): string | null {
  if (dataRunId) {
    return dataRunId;
  }
  const found = /\b[0-9a-f]{32}\b/.exec(text);
  return found ? found[0] : null;
}

/** What happened to the kernel, as the start of the line under a redrawn badge. */
export type KernelEvent = 'restarted' | 'died' | 'shut down' | null;

/** The line under a redrawn badge: why the output was frozen and how the run ended. */
export function endedLine(event: KernelEvent, state: IRunState): string {
  const status = state.status;
  if (event) {
    return `the kernel ${event}: run ended ${status}`;
  }
  if (state.terminated_by === 'kernel-died') {
    return `its kernel stopped while it ran: run ended ${status}`;
  }
  return `run ended ${status} after this output was drawn`;
}
