import { describe, expect, it } from 'vitest';
import type { MountState, MountStatus } from '../../../../src-shared/mountState.ts';
import { trayIcon, trayModel } from '../../../../src-main/electron/trayMenu.ts';
import { contentFromArgv, contentSource } from '../../../../src-main/electron/launchArgs.ts';

// The tray's model (UI.md "Tray"); the tray itself against a live table is in
// test/integration/electron-app.test.ts.

const CID = 'bafybeihnqohtjaxafnn54bqe7bztaibdprkl6gzdcccv4t6ela2qosqg7i';

function m(id: string, name: string, state: MountState, extra: Partial<MountStatus> = {}): MountStatus {
  return {
    id,
    state,
    since: '2026-11-30T10:00:00.000Z',
    spec: { id, name, autoMount: true, host: { kind: 'fuse', mountpoint: `/b/${id}`, readOnly: true }, guest: { kind: 'local', path: '/srv' } } as MountStatus['spec'],
    ...extra,
  };
}

const open = { state: 'open' as const };

describe('trayModel', () => {
  it('lists the mounts as checkboxes with name and state, then the actions of UI.md', () => {
    const model = trayModel({
      mounts: [m('a', 'Site docs', 'mounted'), m('b', 'Pins', 'unmounted'), m('c', 'NAS share', 'failed', { nextRetryAt: '2026-11-30T10:00:30.000Z' })],
      connection: open,
      clipboardHasContent: false,
      launchAtLogin: true,
    });
    expect(model.tooltip).toBe('Berth — 1 mounted, 1 failed');
    expect(model.icon).toBe('attention');
    expect(model.items).toEqual([
      { kind: 'header', label: 'Berth — 1 mounted, 1 failed' },
      { kind: 'mount', id: 'a', label: 'Site docs — mounted', checked: true, enabled: true },
      { kind: 'mount', id: 'b', label: 'Pins — unmounted', checked: false, enabled: true },
      { kind: 'mount', id: 'c', label: 'NAS share ⚠ — failed (retrying)', checked: true, enabled: true },
      { kind: 'separator' },
      { kind: 'action', action: 'mountFromClipboard', label: 'Mount CID from clipboard…', enabled: false },
      { kind: 'action', action: 'open', label: 'Open Berth', enabled: true },
      { kind: 'action', action: 'unmountAll', label: 'Unmount all', enabled: true },
      { kind: 'separator' },
      { kind: 'toggle', action: 'launchAtLogin', label: 'Launch at login', checked: true },
      { kind: 'action', action: 'quit', label: 'Quit Berth', enabled: true },
    ]);
  });

  it('disables a mount while it moves, and the service actions while the service is away', () => {
    const moving = trayModel({ mounts: [m('a', 'A', 'mounting')], connection: open, clipboardHasContent: true, launchAtLogin: false });
    expect(moving.icon).toBe('busy');
    expect(moving.items[1]).toMatchObject({ label: 'A — mounting…', checked: true, enabled: false });
    expect(moving.items.find((i) => i.kind === 'action' && i.action === 'mountFromClipboard')).toMatchObject({ enabled: true });
    const lost = trayModel({ mounts: [m('a', 'A', 'mounted')], connection: { state: 'lost', message: 'gone' }, clipboardHasContent: true, launchAtLogin: false });
    expect(lost.tooltip).toBe('Berth — reconnecting to the service…');
    expect(lost.items.filter((i) => 'enabled' in i && !i.enabled).length).toBe(3);
    expect(trayModel({ mounts: [], connection: open, clipboardHasContent: false, launchAtLogin: false }).tooltip).toBe('Berth — no mounts');
  });

  it('icon: attention outranks busy, busy outranks ok; an unreachable node is attention', () => {
    expect(trayIcon([m('a', 'A', 'mounted')], open)).toBe('ok');
    expect(trayIcon([m('a', 'A', 'mounted'), m('b', 'B', 'unmounting')], open)).toBe('busy');
    expect(trayIcon([m('a', 'A', 'stale'), m('b', 'B', 'mounting')], open)).toBe('attention');
    expect(trayIcon([m('a', 'A', 'mounted', { health: { node: 'unreachable', since: '2026-11-30T10:00:00.000Z' } })], open)).toBe('attention');
  });
});

describe('content handed to the app', () => {
  it('finds a CID or link in the clipboard, argv or a URL the OS passed', () => {
    expect(contentSource(`have a look: ipfs://${CID}/docs`)).toBe(`/ipfs/${CID}/docs`);
    expect(contentSource(`https://dweb.link/ipfs/${CID}`)).toBe(`/ipfs/${CID}`);
    expect(contentSource('ipns://example.com')).toBe('/ipns/example.com');
    expect(contentSource('just words')).toBeUndefined();
    expect(contentFromArgv(['/opt/Berth/berth-desktop', '--no-sandbox', `--flag=${CID}`, CID])).toBe(`/ipfs/${CID}`);
    expect(contentFromArgv(['/opt/Berth/berth-desktop', '--hidden'])).toBeUndefined();
  });
});
