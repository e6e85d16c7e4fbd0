import type { Bridge } from '../../src-shared/bridge.ts';
import { BridgeError } from '../../src-shared/bridge.ts';
import type { MountInput } from '../../src-shared/mountSpec.ts';
import { mountName } from '../lib/format.ts';
import { closeDialog, select, showToast } from './actions.ts';
import { applyEvent } from './events.ts';
import { useBerth } from './index.ts';
import type { MenuTarget } from './ui.ts';

// What the person asks the service to do: plain functions over the bridge. Each reports
// a failure as a toast in the service's words (message, then hint); the table itself
// changes only through the service's events, so the page never guesses a state.

/** The bridge in use (owner: startFollowing). */
let current: Bridge | undefined;

/** The bridge; throws before startFollowing ran (a programming error, not a user one). */
export function bridge(): Bridge {
  if (!current) throw new Error('no bridge yet: call startFollowing(bridge) first');
  return current;
}

/** Shows a failed request as a toast in the service's words. */
export function reportError(what: string, err: unknown): void {
  const info = err instanceof BridgeError ? err.info : { message: err instanceof Error ? err.message : String(err), hint: undefined };
  showToast({ tone: 'error', title: `${what}: ${info.message}`, ...(info.hint ? { text: info.hint } : {}) });
}

/** Runs a request; a failure becomes a toast and `undefined`. */
async function attempt<T>(what: string, fn: (b: Bridge) => Promise<T>): Promise<T | undefined> {
  try {
    return await fn(bridge());
  } catch (err) {
    reportError(what, err);
    return undefined;
  }
}

/** Asks for the default IPFS node's status (the header line). */
export async function refreshNode(): Promise<void> {
  try {
    const node = await bridge().nodeStatus();
    useBerth.setState({ node });
  } catch {
    // The header keeps its last line; the connection banner says when the service is gone.
  }
}

/** How often the header's node line is re-checked while the page is open. */
const NODE_POLL_MS = 20_000;

/**
 * Connects the store to a bridge: events feed the store, the node line is checked when
 * the stream (re)opens, the settings change and every 20 s. Returns the stop function.
 */
export function startFollowing(b: Bridge): () => void {
  current = b;
  useBerth.setState({ bridgeKind: b.kind, capabilities: b.capabilities });
  const offEvents = b.subscribe(applyEvent);
  const offOpen = useBerth.subscribe(
    (s) => s.connection.state,
    (state) => {
      if (state === 'open') void refreshNode();
    },
  );
  const offSettings = useBerth.subscribe(
    (s) => s.settings,
    (now, before) => {
      if (before === undefined || now === undefined) return;
      void refreshNode();
      // The default mount folder follows the settings; the service knows its default.
      void b
        .info()
        .then((info) => useBerth.setState({ info }))
        .catch(() => undefined);
    },
  );
  const poll = setInterval(() => {
    if (useBerth.getState().connection.state === 'open') void refreshNode();
  }, NODE_POLL_MS);
  if (b.capabilities.desktopSettings) {
    void b
      .getDesktopSettings()
      .then((desktopSettings) => useBerth.setState({ desktopSettings }))
      .catch(() => undefined);
  }
  return () => {
    clearInterval(poll);
    offOpen();
    offSettings();
    offEvents();
    if (current === b) current = undefined;
  };
}

/** Mounts an unmounted or failed mount, unmounts a mounted one (the row's switch, Space). */
export async function toggleMount(id: string): Promise<void> {
  const m = useBerth.getState().mountsById[id];
  if (!m || m.state === 'mounting' || m.state === 'unmounting') return;
  if (m.state === 'mounted') await attempt(`Could not unmount ${mountName(m)}`, (b) => b.unmount({ id }));
  else await attempt(`Could not mount ${mountName(m)}`, (b) => b.mount({ id }));
}

/** Mounts again now instead of waiting for the next retry. */
export async function retryNow(id: string): Promise<void> {
  const m = useBerth.getState().mountsById[id];
  await attempt(`Could not mount ${m ? mountName(m) : id}`, (b) => b.mount({ id }));
}

/**
 * Adds a mount and starts mounting it; resolves with its id once the service saved it
 * (the row then shows the mount's progress). Throws the service's error, for the dialog.
 */
export async function addAndMount(spec: MountInput): Promise<string> {
  const b = bridge();
  const added = await b.addMount({ spec, mount: false });
  select(added.id);
  void attempt(`Could not mount ${mountName(added)}`, (x) => x.mount({ id: added.id }));
  return added.id;
}

/** Saves an edited mount (the service remounts it when it was up). Throws the service's error, for the dialog. */
export async function saveMount(id: string, spec: MountInput): Promise<void> {
  await bridge().updateMount({ id, spec });
}

/** Removes a mount (unmounting it first when needed) and closes the dialog. */
export async function removeMount(id: string): Promise<void> {
  const m = useBerth.getState().mountsById[id];
  const ok = await attempt(`Could not remove ${m ? mountName(m) : id}`, (b) => b.removeMount({ id }).then(() => true));
  if (ok) closeDialog();
}

/** What "Copy …" copies. */
export type CopyKind = 'cid' | 'link' | 'native';

const COPY_WORDS: Record<CopyKind, string> = { cid: 'the CID', link: 'the gateway link', native: 'the ipfs:// link' };

/** Copies a CID or a link of a mount or an entry inside it, and says what was copied. */
export async function copyFor(target: MenuTarget, kind: CopyKind): Promise<void> {
  const r = await attempt(`Could not copy ${COPY_WORDS[kind]}`, (b) => b.entryLink({ id: target.id, path: target.path, ...(kind === 'native' ? { form: 'native' as const } : {}) }));
  if (!r) return;
  const text = kind === 'cid' ? r.cid : kind === 'native' ? r.native : r.link;
  await copyText(text, r.fallbackReason && kind === 'link' ? `Copied (${r.fallbackReason})` : 'Copied');
}

/** Puts text on the clipboard with a "Copied" toast showing it; on failure the toast shows the text to copy by hand. */
export async function copyText(text: string, title = 'Copied'): Promise<void> {
  try {
    await bridge().writeClipboard({ text });
    showToast({ tone: 'info', title, text });
  } catch (err) {
    const info = err instanceof BridgeError ? err.info : { message: String(err) };
    showToast({ tone: 'error', title: `Could not copy: ${info.message}`, text });
  }
}

/** The host folder of a mount or an entry inside it (a file's own folder). */
export function hostPathOf(target: MenuTarget): string | undefined {
  const m = useBerth.getState().mountsById[target.id];
  if (!m || m.spec.host.kind !== 'fuse') return undefined;
  const mp = m.spec.host.mountpoint.replace(/\/+$/, '');
  const inside = target.entry && target.entry.type !== 'dir' ? target.path.split('/').slice(0, -1).join('/') : target.path;
  return `${mp}${inside === '/' ? '' : inside}` || '/';
}

/** Opens the folder of a mount (or of a browsed entry) in the file manager (desktop app). */
export async function openFolderOf(target: MenuTarget): Promise<void> {
  const path = hostPathOf(target);
  if (!path) return;
  await attempt('Could not open the folder', (b) => b.openFolder({ path }));
}

/** Dismisses a notice (it stays dismissed in every face). */
export async function dismissNotice(id: string): Promise<void> {
  await attempt('Could not dismiss the notice', (b) => b.dismissNotice({ id }));
}
