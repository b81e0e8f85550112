/**
 * No notebook output claims RUNNING for a run that ended.
 *
 * A run monitor's output keeps the last state its kernel drew. When the kernel restarts or dies
 * mid-run, that is a frozen RUNNING badge, while the store (and the panel) say KILLED. This
 * plugin watches open notebooks: when a notebook opens and whenever its kernel restarts, dies or
 * is shut down, it finds the monitors whose badge says RUNNING, asks the server for each run's
 * state (the server ends runs of dead local kernels when asked), and redraws the badge with one
 * line saying what happened.
 */

import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import type { ISessionContext } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { IRunState, NbstudioAPI } from './api';
import { isActiveStatus } from './format';
import { endedLine, headerRunId, KernelEvent } from './monitorlines';

/** Badge colours of the monitor (nbstudio.tracking.result.STATUS_COLOURS). */
const STATUS_COLOURS: Record<string, string> = {
  FINISHED: '#107c10',
  FAILED: '#d13438',
  KILLED: '#8a8886',
  RUNNING: '#0078d4',
  SCHEDULED: '#8a8886'
};

/** How long after a restart the server is asked again (the old kernel takes a moment to exit). */
const RETRY_MS = 1000;
const RETRY_FOR_MS = 30_000;
/** Checks after a notebook opens: outputs and widgets render a little after the document. */
const OPEN_CHECKS_MS = [1000, 4000];

/** A document widget whose context has a kernel session (a notebook). */
type SessionDocument = Widget & {
  context: {
    path: string;
    ready: Promise<void>;
    sessionContext: ISessionContext;
  };
};

function isNotebook(widget: Widget): widget is SessionDocument {
  const context = (widget as unknown as Partial<SessionDocument>).context;
  return !!context && !!context.sessionContext && /\.ipynb$/.test(context.path);
}

/** Monitors of a notebook whose badge says the run is still going. */
function activeHeaders(node: HTMLElement): HTMLElement[] {
  return Array.from(
    node.querySelectorAll<HTMLElement>('.nbstudio-monitor-header')
  ).filter(header => {
    // An untrusted notebook's saved HTML loses its data attributes: read the badge's text.
    const badge = header.querySelector<HTMLElement>('.nbstudio-status');
    const status = badge?.dataset.status || badge?.textContent?.trim() || '';
    return status !== '' && isActiveStatus(status);
  });
}

function redraw(header: HTMLElement, state: IRunState, line: string): void {
  const badge = header.querySelector<HTMLElement>('.nbstudio-status');
  if (!badge) {
    return;
  }
  badge.dataset.status = state.status;
  badge.textContent = state.status;
  badge.style.background = STATUS_COLOURS[state.status] ?? '#605e5c';
  let note = header.nextElementSibling as HTMLElement | null;
  if (!note || !note.classList.contains('nbstudio-monitor-ended')) {
    note = document.createElement('div');
    note.className = 'nbstudio-monitor-ended';
    note.style.color = '#605e5c';
    note.style.fontSize = '0.9em';
    header.insertAdjacentElement('afterend', note);
  }
  note.textContent = line;
}

/**
 * Ask the server about each monitor of ``node`` that claims its run is going, and redraw those
 * whose run ended. Returns how many still claim it (live runs, or runs not yet reaped).
 */
async function settle(
  api: NbstudioAPI,
  node: HTMLElement,
  event: KernelEvent
): Promise<number> {
  const headers = activeHeaders(node);
  let open = 0;
  await Promise.all(
    headers.map(async header => {
      const runId = headerRunId(header.dataset.runId, header.textContent ?? '');
      if (!runId) {
        return;
      }
      try {
        const state = await api.runState(runId);
        if (isActiveStatus(state.status)) {
          open += 1;
        } else {
          redraw(header, state, endedLine(event, state));
        }
      } catch {
        // A run of another store (or deleted): nothing known to say about it.
      }
    })
  );
  return open;
}

function watch(api: NbstudioAPI, widget: SessionDocument): void {
  const sessionContext = widget.context.sessionContext;
  let retry: number | null = null;
  const settleUntilDone = (event: KernelEvent): void => {
    if (retry !== null) {
      window.clearTimeout(retry);
    }
    const until = Date.now() + RETRY_FOR_MS;
    const attempt = async (): Promise<void> => {
      retry = null;
      if (widget.isDisposed) {
        return;
      }
      const open = await settle(api, widget.node, event);
      if (open > 0 && Date.now() < until) {
        retry = window.setTimeout(() => void attempt(), RETRY_MS);
      }
    };
    void attempt();
  };
  void widget.context.ready.then(() => {
    for (const delay of OPEN_CHECKS_MS) {
      window.setTimeout(() => {
        if (!widget.isDisposed) {
          void settle(api, widget.node, null);
        }
      }, delay);
    }
  });
  sessionContext.statusChanged.connect((_, status) => {
    if (status === 'restarting' || status === 'autorestarting') {
      settleUntilDone('restarted');
    } else if (status === 'dead') {
      settleUntilDone('died');
    }
  });
  sessionContext.kernelChanged.connect((_, change) => {
    if (change.oldValue && !change.newValue) {
      settleUntilDone('shut down');
    }
  });
}

export const monitorStatusPlugin: JupyterFrontEndPlugin<void> = {
  id: 'nbstudio:monitor-status',
  description:
    'Redraws run monitors left RUNNING by a kernel restart with the state the store has.',
  autoStart: true,
  requires: [ILabShell],
  activate: (app: JupyterFrontEnd, shell: ILabShell): void => {
    const api = new NbstudioAPI(app.serviceManager.serverSettings);
    const watched = new WeakSet<Widget>();
    const watchAll = (): void => {
      for (const widget of shell.widgets('main')) {
        if (!watched.has(widget) && isNotebook(widget)) {
          watched.add(widget);
          watch(api, widget);
        }
      }
    };
    shell.layoutModified.connect(watchAll);
    void app.restored.then(watchAll);
  }
};
