/**
 * The run view's actions: rename, a description (MLflow's ``mlflow.note.content``), a tag editor
 * (add, change, remove), and delete/restore (MLflow's soft delete). Each is one call of
 * ``PATCH runs/<id>/meta`` or ``POST runs/<id>/delete|restore``; the view then reloads.
 */

import * as React from 'react';

import { IRunEdit, IRunMeta, NbstudioAPI } from './api';
import { ErrorLine } from './components';

function message(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

/** Run an action, report its error, and tell the view it changed the run. */
function useAction(onChanged: (meta: IRunMeta) => void): {
  busy: boolean;
  error: string | null;
  act: (call: () => Promise<IRunMeta>) => Promise<boolean>;
} {
  const [busy, setBusy] = React.useState(false);
  const [error, setError] = React.useState<string | null>(null);
  const act = async (call: () => Promise<IRunMeta>): Promise<boolean> => {
    setBusy(true);
    try {
      onChanged(await call());
      setError(null);
      return true;
    } catch (reason) {
      setError(message(reason));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, act };
}

interface IEditProps {
  api: NbstudioAPI;
  meta: IRunMeta;
  onChanged: (meta: IRunMeta) => void;
}

function edit(props: IEditProps, change: IRunEdit): Promise<IRunMeta> {
  return props.api.editRun(props.meta.run_id, change);
}

/** The Save (submits the form) and Cancel buttons of an edit form. */
function SaveCancel(props: {
  disabled: boolean;
  cancel: () => void;
}): JSX.Element {
  return (
    <>
      <button
        type="submit"
        className="jp-Button jp-mod-styled jp-mod-accept"
        disabled={props.disabled}
      >
        Save
      </button>
      <button
        type="button"
        className="jp-Button jp-mod-styled"
        onClick={props.cancel}
      >
        Cancel
      </button>
    </>
  );
}

/** The run's name as the view's title, with a Rename action. */
export function RunName(props: IEditProps): JSX.Element {
  const { meta } = props;
  const [editing, setEditing] = React.useState<string | null>(null);
  const { busy, error, act } = useAction(props.onChanged);
  const deleted = meta.lifecycle_stage === 'deleted';
  if (editing === null) {
    return (
      <>
        <h2 className="nbs-run-name" title={meta.run_name || meta.run_id}>
          {meta.run_name || meta.run_id}
        </h2>
        {!deleted && (
          <button
            className="nbs-link-button nbs-rename"
            onClick={() => setEditing(meta.run_name)}
          >
            rename
          </button>
        )}
      </>
    );
  }
  return (
    <form
      className="nbs-inline-form nbs-rename-form"
      onSubmit={event => {
        event.preventDefault();
        void act(() => edit(props, { name: editing })).then(
          ok => ok && setEditing(null)
        );
      }}
    >
      <input
        className="jp-mod-styled"
        aria-label="run name"
        value={editing}
        maxLength={250}
        autoFocus
        onChange={event => setEditing(event.target.value)}
      />
      <SaveCancel
        disabled={busy || !editing.trim()}
        cancel={() => setEditing(null)}
      />
      <ErrorLine error={error} />
    </form>
  );
}

/** The run's description (plain text, line breaks kept), editable. */
export function RunDescription(props: IEditProps): JSX.Element {
  const { meta } = props;
  const [editing, setEditing] = React.useState<string | null>(null);
  const { busy, error, act } = useAction(props.onChanged);
  const deleted = meta.lifecycle_stage === 'deleted';
  return (
    <div className="nbs-description">
      <h4>
        Description
        {editing === null && !deleted && (
          <button
            className="nbs-link-button nbs-edit-description"
            onClick={() => setEditing(meta.description)}
          >
            {meta.description ? 'edit' : 'add'}
          </button>
        )}
      </h4>
      {editing === null ? (
        meta.description ? (
          <div className="nbs-description-text nbs-pre-line">
            {meta.description}
          </div>
        ) : (
          <div className="nbs-note">No description.</div>
        )
      ) : (
        <form
          className="nbs-description-form"
          onSubmit={event => {
            event.preventDefault();
            void act(() => edit(props, { description: editing })).then(
              ok => ok && setEditing(null)
            );
          }}
        >
          <textarea
            className="jp-mod-styled"
            aria-label="description"
            rows={4}
            maxLength={8000}
            value={editing}
            autoFocus
            onChange={event => setEditing(event.target.value)}
          />
          <div className="nbs-inline-form">
            <SaveCancel disabled={busy} cancel={() => setEditing(null)} />
          </div>
          <ErrorLine error={error} />
        </form>
      )}
    </div>
  );
}

/** The user's tags with a remove button each, and a form that adds or changes one. */
export function TagEditor(
  props: IEditProps & { tags: Record<string, string> }
): JSX.Element {
  const { tags, meta } = props;
  const [key, setKey] = React.useState('');
  const [value, setValue] = React.useState('');
  const { busy, error, act } = useAction(props.onChanged);
  const deleted = meta.lifecycle_stage === 'deleted';
  const entries = Object.entries(tags);
  return (
    <div className="nbs-tag-editor">
      {entries.length === 0 ? (
        <div className="nbs-note">No tags.</div>
      ) : (
        <table className="nbs-kv nbs-user-tags">
          <tbody>
            {entries.map(([k, v]) => (
              <tr key={k} data-tag={k}>
                <th>{k}</th>
                <td>
                  {v}
                  {!deleted && (
                    <button
                      className="nbs-icon-button nbs-remove-tag"
                      title={`Remove tag ${k}`}
                      aria-label={`remove tag ${k}`}
                      disabled={busy}
                      onClick={() =>
                        void act(() => edit(props, { delete_tags: [k] }))
                      }
                    >
                      ×
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {!deleted && (
        <form
          className="nbs-inline-form nbs-add-tag"
          onSubmit={event => {
            event.preventDefault();
            void act(() =>
              edit(props, { set_tags: { [key.trim()]: value } })
            ).then(ok => {
              if (ok) {
                setKey('');
                setValue('');
              }
            });
          }}
        >
          <input
            className="jp-mod-styled"
            aria-label="tag key"
            placeholder="key"
            maxLength={250}
            value={key}
            onChange={event => setKey(event.target.value)}
          />
          <input
            className="jp-mod-styled"
            aria-label="tag value"
            placeholder="value"
            maxLength={8000}
            value={value}
            onChange={event => setValue(event.target.value)}
          />
          <button
            type="submit"
            className="jp-Button jp-mod-styled"
            disabled={busy || !key.trim()}
          >
            Set tag
          </button>
        </form>
      )}
      {!deleted && <ErrorLine error={error} />}
    </div>
  );
}

/** Delete (asks once more) or, for a deleted run, a banner with Restore. */
export function DeleteRestore(props: IEditProps): JSX.Element {
  const { api, meta } = props;
  const [confirming, setConfirming] = React.useState(false);
  const { busy, error, act } = useAction(props.onChanged);
  if (meta.lifecycle_stage === 'deleted') {
    return (
      <div className="nbs-deleted-banner" role="status">
        This run is deleted: it is hidden from the panel's lists and from
        MLflow's searches until restored.
        <button
          className="jp-Button jp-mod-styled jp-mod-accept nbs-restore"
          disabled={busy}
          onClick={() => void act(() => api.runAction(meta.run_id, 'restore'))}
        >
          Restore
        </button>
        <ErrorLine error={error} />
      </div>
    );
  }
  return (
    <span className="nbs-delete-run">
      {confirming ? (
        <>
          <button
            className="jp-Button jp-mod-styled jp-mod-warn nbs-confirm-delete"
            disabled={busy}
            onClick={() =>
              void act(() => api.runAction(meta.run_id, 'delete')).then(() =>
                setConfirming(false)
              )
            }
          >
            Delete run
          </button>
          <button
            className="jp-Button jp-mod-styled"
            onClick={() => setConfirming(false)}
          >
            Cancel
          </button>
        </>
      ) : (
        <button
          className="jp-Button jp-mod-styled nbs-delete"
          title="Delete this run (MLflow's soft delete: it can be restored)"
          onClick={() => setConfirming(true)}
        >
          Delete
        </button>
      )}
      <ErrorLine error={error} />
    </span>
  );
}
