import { useLayoutEffect, useRef, useState } from 'react';
import { BridgeError } from '../../src-shared/bridge.ts';
import type { MountStatus } from '../../src-shared/mountState.ts';
import { sourceParts } from '../lib/format.ts';
import {
  ADVANCED_FIELDS,
  buildInput,
  draftFromSpec,
  fieldOfServiceMessage,
  firstError,
  newDraft,
  understand,
  withName,
  withSource,
  type FieldErrors,
  type FieldName,
  type MountDraft,
} from '../lib/mountForm.ts';
import { closeDialog } from '../store/actions.ts';
import { addAndMount, bridge, saveMount } from '../store/commands.ts';
import { useBerth } from '../store/index.ts';
import { describedBy, Field } from './Field.tsx';
import { Modal } from './Modal.tsx';

/** Where new mounts go when the service has not said yet. */
const FALLBACK_FOLDER = '~/Berth';

/** What the Source field accepts, shown until it understands something. */
const SOURCE_HELP = 'A CID, an /ipfs/… path, an ipfs:// or gateway link, an NFS share (host:/export) or a local folder (/path).';

/** Ids of the controls, so "focus the first error" can find them. */
const CONTROL_ID: Record<FieldName, string> = {
  source: 'mf-source',
  name: 'mf-name',
  mountpoint: 'mf-mountpoint',
  listen: 'mf-listen',
  autoMount: 'mf-automount',
  node: 'mf-node',
  timeoutMs: 'mf-timeout',
  cacheExpiryMs: 'mf-cache',
  uid: 'mf-uid',
  gid: 'mf-gid',
  mountPort: 'mf-mountport',
  clients: 'mf-clients',
  form: 'mf-form-error',
};

/** The add dialog ("Add mount"), or the edit dialog ("Edit mount") of an existing mount. */
export function AddMountDialog({ editId, source }: { editId?: string; source?: string }) {
  const folder = useBerth((s) => s.info?.defaultMountFolder ?? FALLBACK_FOLDER);
  const editing = useBerth((s) => (editId ? s.mountsById[editId] : undefined));
  if (editId && !editing) return null;
  return <MountForm key={editId ?? 'new'} folder={folder} editing={editing} source={source} />;
}

function MountForm({ folder, editing, source }: { folder: string; editing?: MountStatus; source?: string }) {
  const caps = useBerth((s) => s.capabilities);
  const [draft, setDraft] = useState<MountDraft>(() => (editing ? draftFromSpec(editing.spec) : newDraft(folder, source ?? '')));
  const [tried, setTried] = useState(false);
  const [serviceErrors, setServiceErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);
  const [advancedOpen, setAdvancedOpen] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);

  const built = buildInput(draft);
  // Messages show once the person tried to save; from then on they follow the typing.
  const errors: FieldErrors = tried ? { ...serviceErrors, ...built.errors } : serviceErrors;
  const understood = draft.fixedGuest ? undefined : understand(draft.source);
  const kind = draft.fixedGuest?.kind ?? (understood?.ok ? understood.guess.kind : undefined);
  const isIpfsKind = kind === 'ipfs' || kind === 'ipns' || kind === 'pinfs' || kind === 'keyfs' || kind === 'mfs';
  const wasUp = editing !== undefined && (editing.state === 'mounted' || editing.state === 'mounting' || editing.state === 'failed');
  const primary = editing ? (wasUp ? 'Save and remount' : 'Save') : 'Mount';

  const update = (patch: Partial<MountDraft>) => {
    setDraft((d) => ({ ...d, ...patch }));
    setServiceErrors({});
  };

  // The field to focus, asked for by a refused submit; focused once the render that opens
  // the Advanced section (when the field is in it) is committed, never before.
  const [focusAsk, setFocusAsk] = useState<{ field: FieldName; n: number }>();
  useLayoutEffect(() => {
    if (focusAsk) formRef.current?.querySelector<HTMLElement>(`#${CONTROL_ID[focusAsk.field]}`)?.focus();
  }, [focusAsk]);

  const focusFirst = (errs: FieldErrors) => {
    const f = firstError(errs);
    if (!f) return;
    if (ADVANCED_FIELDS.has(f)) setAdvancedOpen(true);
    setFocusAsk((prev) => ({ field: f, n: (prev?.n ?? 0) + 1 }));
  };

  const submit = async () => {
    if (busy) return;
    setTried(true);
    const { input, errors: errs } = buildInput(draft);
    if (!input) {
      focusFirst(errs);
      return;
    }
    setBusy(true);
    try {
      if (editing) await saveMount(editing.id, input);
      else await addAndMount(input);
      closeDialog();
    } catch (err) {
      const message = err instanceof BridgeError ? err.message : String(err);
      const hint = err instanceof BridgeError ? err.info.hint : undefined;
      const onField = fieldOfServiceMessage(message);
      const errs: FieldErrors = onField ? { [onField.field]: onField.message } : { form: hint ? `${message} — ${hint}` : message };
      setServiceErrors(errs);
      focusFirst(errs);
    } finally {
      setBusy(false);
    }
  };

  const chooseFolder = async () => {
    try {
      const r = await bridge().pickFolder({ title: 'Mount point', ...(draft.mountpoint.startsWith('/') ? { defaultPath: draft.mountpoint } : {}) });
      if (r.path) update({ mountpoint: r.path, mountpointTouched: true });
    } catch {
      // Cancelled or unavailable: the field keeps what it had.
    }
  };

  const title = editing ? 'Edit mount' : 'Add mount';
  const ctl = (f: FieldName, help = false) => ({ id: CONTROL_ID[f], ...describedBy(CONTROL_ID[f], errors[f], help) });

  return (
    <Modal labelledBy="mount-form-title" onClose={closeDialog} className="mount-dialog">
      <form
        ref={formRef}
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <h2 id="mount-form-title">{title}</h2>
        <div className="dialog-body">
          {draft.fixedGuest ? (
            <div className="field">
              <span className="label-like">Source</span>
              <p className="fixed-source">
                <span className="kind">{draft.fixedGuest.kind}</span> {sourceParts(draft.fixedGuest).full}
              </p>
            </div>
          ) : (
            <Field
              id={CONTROL_ID.source}
              label="Source"
              error={errors.source}
              help={understood?.ok ? <span className="understood">✓ {understood.guess.label}</span> : SOURCE_HELP}
            >
              <input
                {...ctl('source', true)}
                type="text"
                className="mono"
                autoFocus
                autoComplete="off"
                spellCheck={false}
                placeholder="bafy…, ipfs://…, https://dweb.link/ipfs/…, host:/export, /path"
                value={draft.source}
                onChange={(e) => {
                  setDraft((d) => withSource(d, e.target.value, folder));
                  setServiceErrors({});
                }}
              />
            </Field>
          )}
          <Field id={CONTROL_ID.name} label="Name" error={errors.name}>
            <input {...ctl('name')} type="text" autoComplete="off" value={draft.name} onChange={(e) => {
              setDraft((d) => withName(d, e.target.value, folder));
              setServiceErrors({});
            }} />
          </Field>
          <fieldset className="serve-as">
            <legend>Serve as</legend>
            <label className="choice">
              <input type="radio" name="host-kind" checked={draft.hostKind === 'fuse'} onChange={() => update({ hostKind: 'fuse' })} />
              FUSE folder
            </label>
            <label className="choice">
              <input type="radio" name="host-kind" checked={draft.hostKind === 'nfs'} onChange={() => update({ hostKind: 'nfs' })} />
              NFS server
            </label>
          </fieldset>
          {draft.hostKind === 'fuse' ? (
            <Field id={CONTROL_ID.mountpoint} label="Mount point" error={errors.mountpoint}>
              <div className="with-button">
                <input {...ctl('mountpoint')} type="text" className="mono" autoComplete="off" spellCheck={false} value={draft.mountpoint} onChange={(e) => update({ mountpoint: e.target.value, mountpointTouched: true })} />
                {caps.pickFolder && (
                  <button type="button" onClick={() => void chooseFolder()}>
                    Choose…
                  </button>
                )}
              </div>
            </Field>
          ) : (
            <Field id={CONTROL_ID.listen} label="NFS address" error={errors.listen} help="A multiaddr; port 0 lets the system pick a free port.">
              <input {...ctl('listen', true)} type="text" className="mono" autoComplete="off" spellCheck={false} value={draft.listen} onChange={(e) => update({ listen: e.target.value })} />
            </Field>
          )}
          <div className={`field check${errors.autoMount ? ' invalid' : ''}`}>
            <label className="choice">
              <input {...ctl('autoMount')} type="checkbox" checked={draft.autoMount} onChange={(e) => update({ autoMount: e.target.checked })} />
              Mount at start
            </label>
          </div>
          <details className="advanced" open={advancedOpen} onToggle={(e) => setAdvancedOpen(e.currentTarget.open)}>
            <summary>Advanced</summary>
            <div className="advanced-grid">
              {isIpfsKind && (
                <Field id={CONTROL_ID.node} label="IPFS node" error={errors.node} help="Empty: the node set in Settings." className="wide">
                  <input {...ctl('node', true)} type="text" className="mono" placeholder="/ip4/127.0.0.1/tcp/5001" value={draft.node} onChange={(e) => update({ node: e.target.value })} />
                </Field>
              )}
              <Field id={CONTROL_ID.timeoutMs} label="Call timeout (ms)" error={errors.timeoutMs}>
                <input {...ctl('timeoutMs')} type="text" inputMode="numeric" value={draft.timeoutMs} onChange={(e) => update({ timeoutMs: e.target.value })} />
              </Field>
              <Field id={CONTROL_ID.cacheExpiryMs} label="Cache expiry (ms)" error={errors.cacheExpiryMs}>
                <input {...ctl('cacheExpiryMs')} type="text" inputMode="numeric" value={draft.cacheExpiryMs} onChange={(e) => update({ cacheExpiryMs: e.target.value })} />
              </Field>
              {draft.hostKind === 'fuse' && (
                <>
                  <Field id={CONTROL_ID.uid} label="Owner uid" error={errors.uid}>
                    <input {...ctl('uid')} type="text" inputMode="numeric" value={draft.uid} onChange={(e) => update({ uid: e.target.value })} />
                  </Field>
                  <Field id={CONTROL_ID.gid} label="Owner gid" error={errors.gid}>
                    <input {...ctl('gid')} type="text" inputMode="numeric" value={draft.gid} onChange={(e) => update({ gid: e.target.value })} />
                  </Field>
                </>
              )}
              {kind === 'nfs' && (
                <Field id={CONTROL_ID.mountPort} label="Server’s MOUNT port" error={errors.mountPort} help="When it differs from the NFS port (else the portmapper is asked).">
                  <input {...ctl('mountPort', true)} type="text" inputMode="numeric" value={draft.mountPort} onChange={(e) => update({ mountPort: e.target.value })} />
                </Field>
              )}
              {draft.hostKind === 'nfs' && (
                <Field id={CONTROL_ID.clients} label="NFS clients" error={errors.clients} help="Addresses allowed besides this computer, separated by commas." className="wide">
                  <input {...ctl('clients', true)} type="text" className="mono" value={draft.clients} onChange={(e) => update({ clients: e.target.value })} />
                </Field>
              )}
              {kind === 'local' && (
                <div className="field check wide">
                  <label className="choice">
                    <input type="checkbox" checked={draft.readWrite} onChange={(e) => update({ readWrite: e.target.checked })} />
                    Read-write (local folders only)
                  </label>
                </div>
              )}
              {kind === 'local' && draft.hostKind === 'fuse' && (
                <div className="field check wide">
                  <label className="choice">
                    <input type="checkbox" checked={draft.xattrs} onChange={(e) => update({ xattrs: e.target.checked })} />
                    Extended attributes (user.*; each write then asks Berth first)
                  </label>
                </div>
              )}
            </div>
          </details>
          {errors.form && (
            <p className="form-error" id={CONTROL_ID.form} tabIndex={-1} role="alert">
              {errors.form}
            </p>
          )}
        </div>
        <div className="dialog-buttons">
          <button type="button" onClick={closeDialog}>
            Cancel
          </button>
          <button type="submit" className="primary" aria-busy={busy}>
            {busy ? (editing ? 'Saving…' : 'Adding…') : primary}
          </button>
        </div>
      </form>
    </Modal>
  );
}
