import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget } from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { Widget } from '@lumino/widgets';

import { IRunSummary, NbstudioAPI } from './api';
import { CompareView } from './compareview';
import { nbstudioIcon } from './icons';
import { PanelModel } from './model';
import { PipelineView } from './pipelineview';
import { monitorStatusPlugin } from './monitorstatus';
import { RunView } from './runview';
import { Sidebar, SidebarCommands } from './sidebar';
import { TrialsView } from './trialsview';

/** Command ids of the plugin. */
namespace CommandIDs {
  export const openPanel = 'nbstudio:open-panel';
  export const refresh = 'nbstudio:refresh';
  export const openRun = SidebarCommands.openRun;
  export const compareSelected = SidebarCommands.compareSelected;
  export const compareExperiment = SidebarCommands.compareExperiment;
  export const openTrials = SidebarCommands.openTrials;
  export const openPipeline = SidebarCommands.openPipeline;
}

/** The id of the side panel (and of its tab in the left sidebar). */
export const PANEL_ID = 'nbstudio-panel';

/** Most runs "compare" on an experiment reads. */
const COMPARE_LIMIT = 1000;

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'nbstudio:plugin',
  description:
    'nbstudio side panel: experiments, runs, compute, sweeps, models, endpoints.',
  autoStart: true,
  optional: [ILayoutRestorer, IDocumentManager, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    docManager: IDocumentManager | null,
    palette: ICommandPalette | null
  ): void => {
    const api = new NbstudioAPI(app.serviceManager.serverSettings);
    const model = new PanelModel({ api });
    const sidebar = new Sidebar({ model, commands: app.commands });
    sidebar.id = PANEL_ID;
    sidebar.title.icon = nbstudioIcon;
    sidebar.title.caption = 'nbstudio: experiments, runs, compute, models';
    app.shell.add(sidebar, 'left', { rank: 600 });
    restorer?.add(sidebar, PANEL_ID);

    const views = new Private.Views(app);
    const serverRoot = PageConfig.getOption('serverRoot') || null;
    const openNotebook = (path: string): void => {
      if (docManager) {
        docManager.openOrReveal(path);
      } else {
        void app.commands.execute('docmanager:open', { path });
      }
    };
    const openRun = (runId: string, name?: string): void =>
      void app.commands.execute(CommandIDs.openRun, { runId, name });
    const openTrials = (runId: string, name: string): void =>
      void app.commands.execute(CommandIDs.openTrials, { runId, name });
    const compare = (runs: readonly IRunSummary[], label: string): void => {
      const content = new CompareView({ runs, openRun, api });
      views.add(content, `nbstudio-compare-${Private.nextId()}`, label);
    };

    app.commands.addCommand(CommandIDs.openPanel, {
      label: 'Show the nbstudio panel',
      execute: () => app.shell.activateById(PANEL_ID)
    });
    app.commands.addCommand(CommandIDs.refresh, {
      label: 'Refresh the nbstudio panel',
      execute: () => model.refreshNow()
    });
    /** A command opening one view per run (revealed when already open). */
    const addRunCommand = (
      id: string,
      label: string,
      prefix: string,
      make: (runId: string) => Widget
    ): void => {
      app.commands.addCommand(id, {
        label,
        describedBy: {
          args: {
            type: 'object',
            properties: { runId: { type: 'string' }, name: { type: 'string' } }
          }
        },
        execute: args => {
          const runId = String(args.runId);
          const viewId = `nbstudio-${prefix}-${runId}`;
          if (!views.reveal(viewId)) {
            const name =
              typeof args.name === 'string' && args.name
                ? args.name
                : runId.slice(0, 8);
            const title = Private.VIEW_TITLES[prefix] ?? prefix;
            views.add(make(runId), viewId, `${title} ${name}`);
          }
        }
      });
    };
    addRunCommand(
      CommandIDs.openRun,
      'Open nbstudio run',
      'run',
      runId =>
        new RunView({
          api,
          runId,
          openRun,
          openNotebook,
          serverRoot,
          openTrials,
          onChanged: () => void model.refreshNow()
        })
    );
    addRunCommand(
      CommandIDs.openTrials,
      'Open the trials page of an nbstudio sweep or AutoML job',
      'trials',
      runId => new TrialsView({ api, runId, openRun })
    );
    addRunCommand(
      CommandIDs.openPipeline,
      'Open the graph of an nbstudio pipeline run',
      'pipeline',
      runId => new PipelineView({ api, runId, openRun })
    );
    app.commands.addCommand(CommandIDs.compareSelected, {
      label: 'Compare selected nbstudio runs',
      isEnabled: () => model.selected.size >= 2,
      execute: () =>
        compare(
          [...model.selected.values()],
          `Compare ${model.selected.size} runs`
        )
    });
    app.commands.addCommand(CommandIDs.compareExperiment, {
      label: 'Compare the runs of an nbstudio experiment',
      execute: async args => {
        const runs = await model.allRuns(
          String(args.experimentId),
          COMPARE_LIMIT
        );
        compare(runs, `Compare ${String(args.name ?? 'experiment')}`);
      }
    });
    palette?.addItem({ command: CommandIDs.openPanel, category: 'nbstudio' });
    palette?.addItem({ command: CommandIDs.refresh, category: 'nbstudio' });
  }
};

namespace Private {
  let counter = 0;

  /** The tab title's first word of each kind of per-run view. */
  export const VIEW_TITLES: Record<string, string> = {
    run: 'Run',
    trials: 'Trials',
    pipeline: 'Pipeline'
  };

  /** A fresh number for a compare view's id. */
  export function nextId(): number {
    counter += 1;
    return counter;
  }

  /** The main-area views the plugin opened, by id, so a run opens once and is revealed after. */
  export class Views {
    constructor(private app: JupyterFrontEnd) {}

    reveal(id: string): boolean {
      const widget = this._widgets.get(id);
      if (!widget || widget.isDisposed) {
        return false;
      }
      this.app.shell.activateById(id);
      return true;
    }

    add(content: Widget, id: string, label: string): void {
      const widget = new MainAreaWidget({ content });
      widget.id = id;
      widget.title.label = label;
      widget.title.icon = nbstudioIcon;
      widget.title.closable = true;
      content.title.changed.connect(() => {
        widget.title.label = content.title.label || label;
      });
      widget.disposed.connect(() => this._widgets.delete(id));
      this._widgets.set(id, widget);
      this.app.shell.add(widget, 'main');
      this.app.shell.activateById(id);
    }

    private _widgets = new Map<string, MainAreaWidget>();
  }
}

export default [plugin, monitorStatusPlugin];
