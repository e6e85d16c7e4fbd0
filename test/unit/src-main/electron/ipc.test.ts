import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => import('../../../helpers/electron.ts'));

import type { IpcResult } from '../../../../src-shared/bridge.ts';
import { ipcChannel } from '../../../../src-shared/bridge.ts';
import { HTTP_BINDINGS } from '../../../../src-shared/httpBindings.ts';
import { ApiError, call } from '../../../../src-main/api/client.ts';
import { startDaemon } from '../../../../src-main/api/daemon.ts';
import { appPage } from '../../../../src-main/electron/appPage.ts';
import { createDesktopService } from '../../../../src-main/electron/desktop.ts';
import { DesktopSettingsStore } from '../../../../src-main/electron/desktopSettings.ts';
import { FOREIGN_SENDER, registerIpc, registeredChannels } from '../../../../src-main/electron/ipc.ts';
import { MainWindow } from '../../../../src-main/electron/window.ts';
import { BrowserWindow, electronDouble, ipcMain, shell, WebFrameMain } from '../../../helpers/electron.ts';

// Issue 7 "Electron main": IPC handlers reject bad payloads with the same {kind,message,hint}
// as the control API, reject foreign senders (another frame, another URL, a prefix-match
// URL), and call the same service as the HTTP routes (one table behind both).

describe('IPC handlers', () => {
  let base: string;
  let daemon: Extract<Awaited<ReturnType<typeof startDaemon>>, { kind: 'started' }>;
  let socketPath: string;
  let win: MainWindow;
  let unregister: () => void;
  const page = appPage({ rendererIndex: '/opt/Berth/out/renderer/index.html', packaged: true });

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'berth-ipc-'));
    const d = await startDaemon({ configDir: join(base, 'config'), runtimeDir: join(base, 'run'), servedBy: 'app', log: () => undefined });
    if (d.kind !== 'started') throw new Error('a daemon already holds the test folder');
    daemon = d;
    socketPath = d.api.socketPath;
  });
  afterAll(async () => {
    await daemon?.stop('immediate');
    await rm(base, { recursive: true, force: true });
  });

  beforeEach(async () => {
    electronDouble.reset();
    win = new MainWindow(page, '/p.cjs');
    win.show();
    const desktop = await createDesktopService({
      store: new DesktopSettingsStore(join(base, 'userData', 'desktop.json')),
      window: () => win.current(),
      loginItem: { get: async () => false, set: async () => undefined },
      protocolClient: () => true,
    });
    unregister = registerIpc({ service: daemon.service, desktop: desktop.service, snapshot: async () => ({ mounts: daemon.table.list(), settings: daemon.table.settings(), notices: [], info: await daemon.service.info() }), isAppSender: (e) => win.isAppSender(e) });
  });

  const wc = () => electronDouble.window()!.webContents;
  const ipc = (channel: string, input?: unknown, from: unknown = wc().eventFrom()) => ipcMain.invoke(channel, from, input) as Promise<IpcResult<unknown>>;
  /** The API's error for the same channel and input, sent as the CLI and browser would. */
  const api = async (name: keyof typeof HTTP_BINDINGS, input: Record<string, unknown>) => {
    const b = HTTP_BINDINGS[name] as { method: string; path: (i: unknown) => string; body?: (i: unknown) => unknown };
    try {
      await call({ socketPath }, b.method, b.path(input), b.body ? b.body(input) : undefined);
    } catch (err) {
      if (err instanceof ApiError) return err.info;
      throw err;
    }
    throw new Error(`the API accepted ${name} ${JSON.stringify(input)}`);
  };

  it('registers exactly the bridge channels and the snapshot, and unregisters them', () => {
    expect([...ipcMain.handlers.keys()].sort()).toEqual(registeredChannels().sort());
    unregister();
    expect(ipcMain.handlers.size).toBe(0);
  });

  it('answers a bad payload with the same {kind, message, hint} as the control API', async () => {
    const cases: [keyof typeof HTTP_BINDINGS, Record<string, unknown>][] = [
      ['addMount', { spec: { host: { kind: 'fuse', mountpoint: 'relative/dir' }, guest: { kind: 'local', path: '/srv' } } }],
      ['addMount', { spec: { host: { kind: 'fuse', mountpoint: '/mnt/x' }, guest: { kind: 'ipfs', root: '/ipfs/nope' } } }],
      ['addMount', { spec: { host: { kind: 'fuse', mountpoint: '/mnt/x' }, guest: { kind: 'local', path: '/srv' } }, extra: true }],
      ['unmountAll', { level: 'sometimes' }],
      ['updateSettings', { gateway: 42 }],
      ['removeMount', { id: 'm_abc', level: 'whenever' }],
      ['mount', { id: 'm_doesnotexist' }],
      ['browse', { id: 'm_abc', path: '/../etc' }],
    ];
    for (const [name, input] of cases) {
      const viaIpc = await ipc(ipcChannel(name), input);
      expect(viaIpc.ok, name).toBe(false);
      const viaApi = await api(name, input);
      expect(viaIpc, `${name} ${JSON.stringify(input)}`).toEqual({ ok: false, error: viaApi });
    }
  });

  it('refuses inputs that are not the channel schema at all, saying what was expected', async () => {
    for (const [channel, input] of [
      ['addMount', 'fuse local /srv /mnt'],
      ['unmount', { id: '../etc' }],
      ['dismissNotice', { id: 'x' }],
      ['listMounts', { sneaky: true }],
      ['openFolder', { path: 'relative' }],
      ['pickFolder', { title: 5 }],
      ['updateDesktopSettings', { launchAtLogin: 'yes' }],
    ] as const) {
      const r = await ipc(ipcChannel(channel), input);
      expect(r.ok, channel).toBe(false);
      if (!r.ok) {
        expect(r.error.kind, channel).toBe('Usage');
        expect(r.error.message.length, channel).toBeGreaterThan(5);
      }
    }
    const r = await ipc(ipcChannel('openFolder'), { path: 'relative' });
    expect(r).toEqual({ ok: false, error: { kind: 'Usage', message: 'invalid request: path: expected an absolute path starting with "/"' } });
    // Two arguments where the contract has one.
    expect(await ipcMain.invoke(ipcChannel('info'), wc().eventFrom(), {}, {})).toMatchObject({ ok: false, error: { kind: 'Usage' } });
  });

  it('refuses senders that are not the app page in its own main frame, before touching the service', async () => {
    const before = daemon.table.list().length;
    const input = { spec: { host: { kind: 'fuse', mountpoint: join(base, 'mnt-foreign') }, guest: { kind: 'local', path: base } }, mount: false };
    const iframe = new WebFrameMain(page.url, wc().mainFrame);
    const other = new BrowserWindow({});
    other.webContents.navigateTo(page.url);
    for (const from of [wc().eventFrom(iframe), other.webContents.eventFrom(), { sender: wc(), senderFrame: null }]) {
      expect(await ipc(ipcChannel('addMount'), input, from)).toEqual({ ok: false, error: FOREIGN_SENDER });
    }
    for (const url of [`${page.url}.evil.html`, 'file:///tmp/index.html', 'https://example.com/']) {
      wc().navigateTo(url);
      expect(await ipc(ipcChannel('addMount'), input), url).toEqual({ ok: false, error: FOREIGN_SENDER });
      expect(await ipc('berth:snapshot'), url).toEqual({ ok: false, error: FOREIGN_SENDER });
    }
    expect(daemon.table.list()).toHaveLength(before);
  });

  it('runs the same service as the HTTP routes: a mount added over IPC is listed by the API', async () => {
    const added = await ipc(ipcChannel('addMount'), { spec: { name: 'from ipc', host: { kind: 'fuse', mountpoint: join(base, 'mnt-ipc') }, guest: { kind: 'local', path: base } }, mount: false });
    expect(added).toMatchObject({ ok: true, value: { state: 'unmounted', spec: { name: 'from ipc' } } });
    const id = (added as { value: { id: string } }).value.id;
    const listed = await call<{ mounts: { id: string }[] }>({ socketPath }, 'GET', '/v1/mounts');
    expect(listed.mounts.map((m) => m.id)).toContain(id);
    const snap = await ipc('berth:snapshot');
    expect(snap).toMatchObject({ ok: true, value: { info: { servedBy: 'app' } } });
    expect(await ipc(ipcChannel('removeMount'), { id })).toEqual({ ok: true });
  });

  it('desktop channels: Open folder opens folders only; the picker answers null when cancelled', async () => {
    const folder = join(base, 'a folder');
    await mkdir(folder, { recursive: true });
    await writeFile(join(base, 'run.sh'), '#!/bin/sh\n');
    expect(await ipc(ipcChannel('openFolder'), { path: folder })).toEqual({ ok: true });
    expect(await ipc(ipcChannel('openFolder'), { path: join(base, 'run.sh') })).toMatchObject({ ok: false, error: { kind: 'NotDir' } });
    expect(await ipc(ipcChannel('openFolder'), { path: join(base, 'missing') })).toMatchObject({ ok: false, error: { kind: 'NotExist' } });
    expect(shell.opened).toEqual([folder]);
    expect(await ipc(ipcChannel('pickFolder'), { title: 'Mount point' })).toEqual({ ok: true, value: { path: null } });
  });
});
