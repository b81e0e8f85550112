/**
 * The Models section of the run view: what the run logged with ``mlflow.<flavor>.log_model``
 * (MLflow 3 logged models), the registry versions made from each, and a Register action
 * (``POST runs/<id>/models/<model id>/register``, the same core call as ``%register_model``).
 */

import * as React from 'react';

import { ILoggedModel, NbstudioAPI } from './api';
import { ErrorLine } from './components';

function message(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

export function RunModelsSection(props: {
  api: NbstudioAPI;
  runId: string;
  /** Changes when the run may have logged more (its status, say): read again then. */
  refreshKey: string;
}): JSX.Element {
  const { api, runId, refreshKey } = props;
  const [models, setModels] = React.useState<ILoggedModel[] | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const [reads, setReads] = React.useState(0);
  React.useEffect(() => {
    let live = true;
    api
      .runModels(runId)
      .then(answer => {
        if (live) {
          setModels(answer.models);
          setError(null);
        }
      })
      .catch(reason => live && setError(message(reason)));
    return () => {
      live = false;
    };
  }, [runId, refreshKey, reads]);
  return (
    <section className="nbs-run-models">
      <h3>Models</h3>
      <ErrorLine error={error} />
      {models === null && !error && (
        <div className="nbs-note nbs-loading">Loading models…</div>
      )}
      {models?.length === 0 && (
        <div className="nbs-note">
          No model logged by this run (mlflow.&lt;flavor&gt;.log_model(...) or
          %register_model inside it logs one).
        </div>
      )}
      {models && models.length > 0 && (
        <table className="nbs-table">
          <thead>
            <tr>
              <th>Model</th>
              <th>Id</th>
              <th>Registered as</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {models.map(model => (
              <ModelRow
                key={model.model_id}
                api={api}
                runId={runId}
                model={model}
                onRegistered={() => setReads(reads + 1)}
              />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function ModelRow(props: {
  api: NbstudioAPI;
  runId: string;
  model: ILoggedModel;
  onRegistered: () => void;
}): JSX.Element {
  const { api, runId, model } = props;
  const [naming, setNaming] = React.useState(false);
  const [name, setName] = React.useState(model.name);
  const [busy, setBusy] = React.useState(false);
  const [error, setError] = React.useState<string | null>(null);
  const register = async (): Promise<void> => {
    setBusy(true);
    try {
      await api.registerLoggedModel(runId, model.model_id, name);
      setNaming(false);
      setError(null);
      props.onRegistered();
    } catch (reason) {
      setError(message(reason));
    } finally {
      setBusy(false);
    }
  };
  return (
    <tr data-model-id={model.model_id}>
      <td className="nbs-name" title={model.uri}>
        {model.name}
      </td>
      <td className="nbs-digest" title={model.model_id}>
        {model.model_id}
      </td>
      <td className="nbs-registered">
        {model.registered.length ? model.registered.join(', ') : '—'}
      </td>
      <td>
        {naming ? (
          <form
            className="nbs-register-form"
            onSubmit={event => {
              event.preventDefault();
              void register();
            }}
          >
            <input
              className="jp-mod-styled"
              aria-label="registered model name"
              value={name}
              autoFocus
              onChange={event => setName(event.target.value)}
            />{' '}
            <button
              type="submit"
              className="jp-Button jp-mod-styled jp-mod-accept"
              disabled={busy || !name.trim()}
            >
              {busy ? 'Registering…' : 'Register'}
            </button>{' '}
            <button
              type="button"
              className="jp-Button jp-mod-styled"
              onClick={() => setNaming(false)}
            >
              Cancel
            </button>
            <ErrorLine error={error} />
          </form>
        ) : (
          <button
            className="jp-Button jp-mod-styled nbs-register"
            title="Register this model as a new version of a named model"
            onClick={() => setNaming(true)}
          >
            Register…
          </button>
        )}
      </td>
    </tr>
  );
}
