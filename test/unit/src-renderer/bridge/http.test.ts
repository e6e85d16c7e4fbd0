import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type RunningApi } from '../../../../src-main/api/ApiServer.ts';
import { MountStore } from '../../../../src-main/service/MountStore.ts';
import { MountTable } from '../../../../src-main/service/MountTable.ts';
import { openMount } from '../../../../src-main/service/openMount.ts';
import { createTableService } from '../../../../src-main/service/TableService.ts';
import { BridgeError, type Bridge } from '../../../../src-shared/bridge.ts';
import { createHttpBridge } from '../../../../src-renderer/bridge/http.ts';

// The browser bridge's requests against the real control API (in process, on loopback
// with a token): every channel goes through the shared HTTP table, the service's errors
// arrive with their words, and what only the desktop app can do says so. Its event
// stream runs in Chromium (test/e2e), which has the EventSource Node 20 lacks.

/** Node 20 has no EventSource; these tests never subscribe. */
const NoEventSource = class {} as unknown as new (url: string) => EventSource;

describe('the browser bridge against the control API', () => {
  let dir: string;
  let table: MountTable;
  let api: RunningApi;
  let bridge: Bridge;
  const copied: string[] = [];
  let refused = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-httpbridge-'));
    table = new MountTable({ store: new MountStore(join(dir, 'config')), opener: openMount, log: () => undefined, healthIntervalMs: 0 });
    await table.start();
    const service = createTableService(table, {
      info: () => ({ name: 'berth', version: 'test', pid: process.pid, startedAt: new Date().toISOString(), socket: join(dir, 'run', 'api.sock'), servedBy: 'daemon' }),
    });
    api = await startApiServer({ table, service, socketPath: join(dir, 'run', 'api.sock'), ui: '127.0.0.1:0', uiRoot: dir, onShutdown: () => undefined, log: () => undefined });
    bridge = createHttpBridge({
      origin: api.ui!.origin,
      token: api.ui!.token,
      EventSource: NoEventSource,
      writeText: async (text) => {
        if (text === 'refuse me') throw new Error('Document is not focused.');
        copied.push(text);
      },
      onUnauthorized: () => refused++,
    });
  });
  afterAll(async () => {
    await api?.close();
    await table?.shutdown('immediate');
    await rm(dir, { recursive: true, force: true });
  });

  it('reads and changes the service through its routes', async () => {
    expect(await bridge.listMounts()).toEqual([]);
    expect((await bridge.info()).defaultMountFolder).toMatch(/\/Berth$/);
    const s = await bridge.updateSettings({ gateway: 'https://dweb.link', subdomainLinks: true });
    expect(s).toMatchObject({ gateway: 'https://dweb.link', subdomainLinks: true });
    expect(await bridge.getSettings()).toEqual(s);
  });

  it('refuses a bad spec before sending it, in the shared schema\'s words', async () => {
    const err = (await bridge.addMount({ spec: { host: { kind: 'fuse', mountpoint: 'relative' }, guest: { kind: 'local', path: '/x' } } }).catch((e: unknown) => e)) as BridgeError;
    expect(err).toBeInstanceOf(BridgeError);
    expect(err.info.kind).toBe('Usage');
    expect(err.message).toBe('spec.host.mountpoint: expected an absolute path starting with "/"');
    expect(await bridge.listMounts()).toEqual([]);
  });

  it('passes on the service\'s errors with kind, message and hint', async () => {
    const err = (await bridge.mount({ id: 'm_nope' }).catch((e: unknown) => e)) as BridgeError;
    expect(err.info).toEqual({ kind: 'NotFound', message: 'no mount with id "m_nope"', hint: 'run `berth list` to see the ids' });
  });

  it('copies with the browser\'s clipboard; a refusal says so and leaves the text to copy by hand', async () => {
    await bridge.writeClipboard({ text: 'bafy-copied' });
    expect(copied).toEqual(['bafy-copied']);
    const err = (await bridge.writeClipboard({ text: 'refuse me' }).catch((e: unknown) => e)) as BridgeError;
    expect(err.info).toMatchObject({ kind: 'Unavailable', hint: 'copy the text shown here by hand' });
    expect(err.message).toMatch(/Document is not focused/);
  });

  it('has no desktop channels: they reject with Unavailable and the capabilities say so', async () => {
    expect(bridge.kind).toBe('browser');
    expect(bridge.capabilities).toEqual({ pickFolder: false, openFolder: false, desktopSettings: false });
    const err = (await bridge.openFolder({ path: '/tmp' }).catch((e: unknown) => e)) as BridgeError;
    expect(err.info.kind).toBe('Unavailable');
    expect(err.message).toMatch(/needs the Berth desktop app/);
  });

  it('a wrong token is refused (and reported, so the page forgets it)', async () => {
    const wrong = createHttpBridge({ origin: api.ui!.origin, token: 'x'.repeat(43), EventSource: NoEventSource, onUnauthorized: () => refused++ });
    const before = refused;
    const err = (await wrong.listMounts().catch((e: unknown) => e)) as BridgeError;
    expect(err.info.kind).toBe('Permission');
    expect(err.message).toMatch(/wrong token/);
    expect(refused).toBe(before + 1);
  });

  it('a daemon that is gone is Unavailable, with what to do', async () => {
    const gone = createHttpBridge({ origin: 'http://127.0.0.1:9', token: 'x'.repeat(43), EventSource: NoEventSource });
    const err = (await gone.listMounts().catch((e: unknown) => e)) as BridgeError;
    expect(err.info).toMatchObject({ kind: 'Unavailable', message: 'cannot reach Berth’s daemon at http://127.0.0.1:9' });
    expect(err.info.hint).toMatch(/berth daemon --ui/);
  });
});
