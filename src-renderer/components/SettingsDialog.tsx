import { useEffect, useState } from 'react';
import type { Settings, SettingsPatch } from '../../src-shared/api.ts';
import { SettingsPatchSchema } from '../../src-shared/api.ts';
import { BridgeError, type DesktopSettings } from '../../src-shared/bridge.ts';
import { hostPort } from '../lib/format.ts';
import { closeDialog } from '../store/actions.ts';
import { bridge, refreshNode } from '../store/commands.ts';
import { useBerth } from '../store/index.ts';
import { describedBy, Field } from './Field.tsx';
import { Modal } from './Modal.tsx';

/** The settings fields as typed. */
interface SettingsDraft {
  nodeMode: 'discover' | 'address' | 'embedded';
  nodeAddress: string;
  gateway: string;
  subdomainLinks: boolean;
  mountFolder: string;
  fileManagerMenu: boolean;
  /** Berth's own (embedded) node never uses the network. */
  offline: boolean;
  launchAtLogin: boolean;
  protocolHandler: boolean;
}

type SettingsField = 'ipfsNode' | 'gateway' | 'mountFolder' | 'form';

function draftOf(s: Settings | undefined, defaultFolder: string | undefined, desk: DesktopSettings | undefined): SettingsDraft {
  return {
    nodeMode: s?.ipfsNode === 'embedded' ? 'embedded' : s?.ipfsNode ? 'address' : 'discover',
    nodeAddress: s?.ipfsNode && s.ipfsNode !== 'embedded' ? s.ipfsNode : '',
    gateway: s?.gateway ?? 'http://127.0.0.1:8080',
    subdomainLinks: s?.subdomainLinks ?? false,
    mountFolder: s?.mountFolder ?? defaultFolder ?? '',
    fileManagerMenu: s?.fileManagerMenu ?? false,
    offline: s?.offline ?? false,
    launchAtLogin: desk?.launchAtLogin ?? false,
    protocolHandler: desk?.protocolHandler ?? false,
  };
}

/** The patch the draft asks for: only what changed, `null` to go back to a default. */
function patchOf(d: SettingsDraft, s: Settings | undefined, defaultFolder: string | undefined): SettingsPatch {
  const p: SettingsPatch = {};
  const node = d.nodeMode === 'discover' ? null : d.nodeMode === 'embedded' ? 'embedded' : d.nodeAddress.trim();
  if ((node ?? undefined) !== s?.ipfsNode) p.ipfsNode = node;
  if (d.gateway.trim() !== s?.gateway) p.gateway = d.gateway.trim();
  if (d.subdomainLinks !== s?.subdomainLinks) p.subdomainLinks = d.subdomainLinks;
  const folder = d.mountFolder.trim();
  if (folder !== (s?.mountFolder ?? defaultFolder ?? '')) p.mountFolder = folder;
  if (d.fileManagerMenu !== s?.fileManagerMenu) p.fileManagerMenu = d.fileManagerMenu;
  if (d.offline !== (s?.offline ?? false)) p.offline = d.offline;
  return p;
}

/** The live line under the IPFS node choice: "Connected to <agent> …" or "Not reachable: <why>". */
function NodeStatusLine() {
  const node = useBerth((s) => s.node);
  if (!node) return <p className="status-line muted">Checking the IPFS node…</p>;
  if (node.address === 'embedded') {
    return (
      <p className="status-line tone-ok" role="status">
        <span className="dot" aria-hidden="true" /> Using Berth’s own node{node.source === 'embedded' && node.agent ? ` (${node.agent.replace(/^berth-embedded \(|\)$/g, '')})` : ''}.
      </p>
    );
  }
  const where = hostPort(node.address);
  const how = { settings: 'the address set here', discovered: 'found running', default: 'the usual address', embedded: 'built in' }[node.source];
  return node.reachable ? (
    <p className="status-line tone-ok" role="status">
      <span className="dot" aria-hidden="true" /> Connected to {node.agent ?? 'an IPFS node'} at {where} ({how}).
    </p>
  ) : (
    <p className="status-line tone-bad" role="status">
      <span className="dot" aria-hidden="true" /> Not reachable at {where}: {node.error?.message ?? 'no answer'}
      {node.error?.hint ? ` — ${node.error.hint}` : ''}
    </p>
  );
}

/** Settings: IPFS node, links, the default mount folder, the file manager menu, and in the app launch at login and ipfs:// links. */
export function SettingsDialog() {
  const settings = useBerth((s) => s.settings);
  const defaultFolder = useBerth((s) => s.info?.defaultMountFolder);
  const desktop = useBerth((s) => s.desktopSettings);
  const caps = useBerth((s) => s.capabilities);
  const [draft, setDraft] = useState(() => draftOf(settings, defaultFolder, desktop));
  const [errors, setErrors] = useState<Partial<Record<SettingsField, string>>>({});
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    void refreshNode();
  }, []);

  const update = (p: Partial<SettingsDraft>) => setDraft((d) => ({ ...d, ...p }));

  const save = async () => {
    if (busy) return;
    const patch = patchOf(draft, settings, defaultFolder);
    const parsed = SettingsPatchSchema.safeParse(patch);
    if (!parsed.success) {
      const errs: Partial<Record<SettingsField, string>> = {};
      for (const i of parsed.error.issues) {
        const f = (['ipfsNode', 'gateway', 'mountFolder'] as const).find((k) => k === i.path[0]) ?? 'form';
        errs[f] ??= i.message;
      }
      setErrors(errs);
      const first = (['ipfsNode', 'gateway', 'mountFolder', 'form'] as const).find((k) => errs[k]);
      document.getElementById(`set-${first}`)?.focus();
      return;
    }
    setBusy(true);
    try {
      if (Object.keys(patch).length > 0) await bridge().updateSettings(patch);
      if (caps.desktopSettings && (draft.launchAtLogin !== desktop?.launchAtLogin || draft.protocolHandler !== desktop?.protocolHandler)) {
        const desktopSettings = await bridge().updateDesktopSettings({ launchAtLogin: draft.launchAtLogin, protocolHandler: draft.protocolHandler });
        useBerth.setState({ desktopSettings });
      }
      closeDialog();
    } catch (err) {
      const message = err instanceof BridgeError ? `${err.message}${err.info.hint ? ` — ${err.info.hint}` : ''}` : String(err);
      const m = /^(?:invalid settings: )?(ipfsNode|gateway|mountFolder): (.+)$/.exec(message);
      setErrors(m ? { [m[1] as SettingsField]: m[2]! } : { form: message });
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal labelledBy="settings-title" onClose={closeDialog} className="settings-dialog">
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <h2 id="settings-title">Settings</h2>
        <div className="dialog-body">
          <fieldset>
            <legend>IPFS node</legend>
            <label className="choice">
              <input type="radio" name="node-mode" checked={draft.nodeMode === 'discover'} onChange={() => update({ nodeMode: 'discover' })} />
              Find a running node (IPFS Desktop or Kubo), else Berth’s own
            </label>
            <label className="choice">
              <input type="radio" name="node-mode" checked={draft.nodeMode === 'embedded'} onChange={() => update({ nodeMode: 'embedded' })} />
              Use Berth’s own node (fetches from trustless gateways)
            </label>
            <label className="choice">
              <input type="radio" name="node-mode" checked={draft.nodeMode === 'address'} onChange={() => update({ nodeMode: 'address' })} />
              Use this address
            </label>
            {draft.nodeMode === 'address' && (
              <Field id="set-ipfsNode" label="Node address" error={errors.ipfsNode}>
                <input id="set-ipfsNode" {...describedBy('set-ipfsNode', errors.ipfsNode, false)} type="text" className="mono" placeholder="/ip4/127.0.0.1/tcp/5001" value={draft.nodeAddress} onChange={(e) => update({ nodeAddress: e.target.value })} />
              </Field>
            )}
            <NodeStatusLine />
            {draft.nodeMode !== 'address' && (
              <label className="choice">
                <input type="checkbox" checked={draft.offline} onChange={(e) => update({ offline: e.target.checked })} />
                Berth’s own node stays offline (only blocks it already has)
              </label>
            )}
          </fieldset>
          <fieldset>
            <legend>Links</legend>
            <Field id="set-gateway" label="Gateway" error={errors.gateway} help="Copy gateway link uses it; http://127.0.0.1:8080 is your own node’s.">
              <input id="set-gateway" {...describedBy('set-gateway', errors.gateway, true)} type="text" className="mono" value={draft.gateway} onChange={(e) => update({ gateway: e.target.value })} />
            </Field>
            <label className="choice">
              <input type="radio" name="link-form" checked={!draft.subdomainLinks} onChange={() => update({ subdomainLinks: false })} />
              Path links (gateway/ipfs/CID)
            </label>
            <label className="choice">
              <input type="radio" name="link-form" checked={draft.subdomainLinks} onChange={() => update({ subdomainLinks: true })} />
              Subdomain links (CID.ipfs.gateway)
            </label>
          </fieldset>
          <fieldset>
            <legend>Mounts</legend>
            <Field id="set-mountFolder" label="Default mount folder" error={errors.mountFolder} help="New FUSE mounts go into a folder here, named after the mount.">
              <input id="set-mountFolder" {...describedBy('set-mountFolder', errors.mountFolder, true)} type="text" className="mono" value={draft.mountFolder} onChange={(e) => update({ mountFolder: e.target.value })} />
            </Field>
            <label className="choice">
              <input type="checkbox" checked={draft.fileManagerMenu} onChange={(e) => update({ fileManagerMenu: e.target.checked })} />
              Add “Copy CID” to the file manager (Nautilus, Dolphin)
            </label>
          </fieldset>
          {caps.desktopSettings && (
            <fieldset>
              <legend>Desktop</legend>
              <label className="choice">
                <input type="checkbox" checked={draft.launchAtLogin} onChange={(e) => update({ launchAtLogin: e.target.checked })} />
                Launch at login
              </label>
              <label className="choice">
                <input type="checkbox" checked={draft.protocolHandler} onChange={(e) => update({ protocolHandler: e.target.checked })} />
                Open ipfs:// links with Berth
              </label>
            </fieldset>
          )}
          {errors.form && (
            <p className="form-error" id="set-form" tabIndex={-1} role="alert">
              {errors.form}
            </p>
          )}
        </div>
        <div className="dialog-buttons">
          <button type="button" onClick={closeDialog}>
            Cancel
          </button>
          <button type="submit" className="primary" aria-busy={busy}>
            {busy ? 'Saving…' : 'Save'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
