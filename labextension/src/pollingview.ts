/**
 * A main-area view that reads its subject again every couple of seconds while it is on screen
 * and its subject still runs (the run view, the trials page), and stops once the final state
 * is drawn.
 */

import { Message } from '@lumino/messaging';
import { Poll } from '@lumino/polling';
import { ReactWidget } from '@jupyterlab/ui-components';

import { panelFrequency } from './polling';

export abstract class PollingView extends ReactWidget {
  constructor(name: string) {
    super();
    this._poll = new Poll({
      auto: true,
      factory: () => this.load(),
      frequency: panelFrequency(),
      name,
      standby: () => (this.finished || !this.isVisible ? true : 'when-hidden')
    });
  }

  dispose(): void {
    this._poll.dispose();
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (!this.finished) {
      void this._poll.refresh();
    }
  }

  /** One read and redraw; rejects on errors (the poll then backs off). */
  protected abstract load(): Promise<void>;

  /** Set once the subject ended and its final state is drawn: polling stops. */
  protected finished = false;

  private _poll: Poll;
}
