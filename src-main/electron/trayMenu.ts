import type { ConnectionState } from '../../src-shared/bridge.ts';
import type { MountStatus } from '../../src-shared/mountState.ts';
import { mountLabel, stateWords } from './mountLabel.ts';

// The tray's menu and icon as plain data (UI.md "Tray"), computed from the mounts on
// every change; tray.ts only turns it into Electron objects. Keeping it data makes "the
// tray mirrors the table" checkable without a tray.

/** Which icon the tray shows. */
export type TrayIconState = 'ok' | 'attention' | 'busy';

/** What a menu item does when clicked. */
export type TrayAction = 'mountFromClipboard' | 'open' | 'unmountAll' | 'launchAtLogin' | 'quit';

/** One item of the tray menu. */
export type TrayItem =
  | { kind: 'header'; label: string }
  | { kind: 'mount'; id: string; label: string; checked: boolean; enabled: boolean }
  | { kind: 'separator' }
  | { kind: 'action'; action: Exclude<TrayAction, 'launchAtLogin'>; label: string; enabled: boolean }
  | { kind: 'toggle'; action: 'launchAtLogin'; label: string; checked: boolean };

/** The whole tray: icon, tooltip and menu. */
export interface TrayModel {
  icon: TrayIconState;
  tooltip: string;
  items: TrayItem[];
}

/** What the tray is drawn from. */
export interface TrayInputs {
  mounts: readonly MountStatus[];
  connection: ConnectionState;
  /** The clipboard holds a CID or link ("Mount CID from clipboard…" is enabled). */
  clipboardHasContent: boolean;
  launchAtLogin: boolean;
}

/** True when a mount is meant to be up: mounted, on its way, or a failed auto-mount retrying. */
export function mountIsOn(m: MountStatus): boolean {
  return m.state === 'mounted' || m.state === 'mounting' || (m.state === 'failed' && m.nextRetryAt !== undefined);
}

function needsAttention(m: MountStatus): boolean {
  return m.state === 'failed' || m.state === 'stale' || (m.state === 'mounted' && m.health?.node === 'unreachable');
}

/** Something failed → attention; else something moving → busy; else ok. A failure outranks work in progress. */
export function trayIcon(mounts: readonly MountStatus[], connection: ConnectionState): TrayIconState {
  if (connection.state === 'lost' || mounts.some(needsAttention)) return 'attention';
  if (connection.state === 'connecting' || mounts.some((m) => m.state === 'mounting' || m.state === 'unmounting')) return 'busy';
  return 'ok';
}

/** "Berth — 3 mounted, 1 failed". */
export function traySummary(mounts: readonly MountStatus[], connection: ConnectionState): string {
  if (connection.state === 'lost') return 'Berth — reconnecting to the service…';
  if (connection.state === 'connecting') return 'Berth — starting…';
  if (mounts.length === 0) return 'Berth — no mounts';
  const count = (pred: (m: MountStatus) => boolean) => mounts.filter(pred).length;
  const parts = [
    [count((m) => m.state === 'mounted'), 'mounted'],
    [count((m) => m.state === 'mounting' || m.state === 'unmounting'), 'working'],
    [count(needsAttention), 'failed'],
  ] as const;
  const text = parts.filter(([n]) => n > 0).map(([n, w]) => `${n} ${w}`);
  return `Berth — ${text.length ? text.join(', ') : `${mounts.length} unmounted`}`;
}

/** The tray for these inputs. */
export function trayModel(input: TrayInputs): TrayModel {
  const live = input.connection.state === 'open';
  const summary = traySummary(input.mounts, input.connection);
  const items: TrayItem[] = [{ kind: 'header', label: summary }];
  for (const m of input.mounts) {
    const busy = m.state === 'mounting' || m.state === 'unmounting';
    items.push({
      kind: 'mount',
      id: m.id,
      label: `${mountLabel(m)}${needsAttention(m) ? ' ⚠' : ''} — ${stateWords(m)}`,
      checked: mountIsOn(m),
      enabled: live && !busy,
    });
  }
  items.push(
    { kind: 'separator' },
    { kind: 'action', action: 'mountFromClipboard', label: 'Mount CID from clipboard…', enabled: live && input.clipboardHasContent },
    { kind: 'action', action: 'open', label: 'Open Berth', enabled: true },
    { kind: 'action', action: 'unmountAll', label: 'Unmount all', enabled: live && input.mounts.some(mountIsOn) },
    { kind: 'separator' },
    { kind: 'toggle', action: 'launchAtLogin', label: 'Launch at login', checked: input.launchAtLogin },
    { kind: 'action', action: 'quit', label: 'Quit Berth', enabled: true },
  );
  return { icon: trayIcon(input.mounts, input.connection), tooltip: summary, items };
}
