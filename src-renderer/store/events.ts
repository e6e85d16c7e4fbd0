import type { BridgeEvent } from '../../src-shared/bridge.ts';
import { openDialog } from './actions.ts';
import { useBerth, type State } from './index.ts';
import { dropMount, putMount, setMounts } from './mounts.ts';
import { dropNotice, putNotice } from './notices.ts';

// Service events become store changes here, and only here: one plain function per event
// kind, so what the page shows is always the service's last word.

/** Closes what referred to a mount that is gone (details pane, menu, edit/remove dialog). */
function forget(s: State, gone: (id: string) => boolean): Partial<State> {
  const out: Partial<State> = {};
  if (s.selectedId !== undefined && gone(s.selectedId)) out.selectedId = undefined;
  if (s.menu && gone(s.menu.id)) out.menu = undefined;
  if (s.dialog && (s.dialog.kind === 'edit' || s.dialog.kind === 'remove') && gone(s.dialog.id)) out.dialog = undefined;
  return out;
}

/** Applies one bridge event to the store. */
export function applyEvent(ev: BridgeEvent): void {
  const set = useBerth.setState;
  switch (ev.type) {
    case 'snapshot': {
      const { mounts, settings, notices, info } = ev.data;
      const table = setMounts(mounts);
      set((s) => ({ ...table, settings, notices, info, loaded: true, ...forget(s, (id) => !table.mountsById[id]) }));
      return;
    }
    case 'mount':
      set(putMount(ev.data.mount));
      return;
    case 'removed': {
      const { id } = ev.data;
      set((s) => ({ ...dropMount(id)(s), ...forget(s, (x) => x === id) }));
      return;
    }
    case 'settings':
      set((s) => ({ settings: ev.data.settings, ...(s.info && ev.data.settings.mountFolder ? { info: { ...s.info, defaultMountFolder: ev.data.settings.mountFolder } } : {}) }));
      return;
    case 'notice':
      set(putNotice(ev.data.notice));
      return;
    case 'noticeDismissed':
      set(dropNotice(ev.data.id));
      return;
    case 'node':
      set({ node: ev.data.status });
      return;
    case 'shutdown':
      // The stream ends next; the bridge reports the lost connection with the reason.
      return;
    case 'connection':
      set({ connection: ev.data });
      return;
    case 'openAdd':
      openDialog({ kind: 'add', ...(ev.data.source ? { source: ev.data.source } : {}) });
      return;
    default: {
      const never: never = ev;
      void never;
    }
  }
}
