import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BridgeError, type Bridge } from '../../src-shared/bridge.ts';
import { createHttpBridge } from '../../src-renderer/bridge/http.ts';
import { berthSandbox, missingLauncher, type BerthSandbox } from '../helpers/berthDaemon.ts';
import { startUiDaemon, stopDaemon, type UiDaemon } from './helpers/uiDaemon.ts';

// The browser bridge's requests against a real `berth daemon --ui` (its loopback listener
// and token): every channel goes through the shared HTTP table, the service's errors
// arrive with their words, and what only the desktop app can do says so. Its event
// stream runs in Chromium (the other files here), which has the EventSource Node 20 lacks.

/** Node 20 has no EventSource; these tests never subscribe. */
const NoEventSource = class {} as unknown as new (url: string) => EventSource;

describe.skipIf(missingLauncher())('the browser bridge against the control API', () => {
  let sb: BerthSandbox;
  let daemon: UiDaemon;
  let bridge: Bridge;
  const copied: string[] = [];
  let refused = 0;

  beforeAll(async () => {
    sb = await berthSandbox();
    daemon = await startUiDaemon(sb);
    bridge = createHttpBridge({
      origin: daemon.origin,
      token: daemon.token,
      EventSource: NoEventSource,
      writeText: async (text) => {
        if (text === 'refuse me') throw new Error('Document is not focused.');
        copied.push(text);
      },
      onUnauthorized: () => refused++,
    });
  });
  afterAll(async () => {
    if (daemon) await stopDaemon(daemon).catch(() => undefined);
    await sb?.cleanup();
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
    const wrong = createHttpBridge({ origin: daemon.origin, token: 'x'.repeat(43), EventSource: NoEventSource, onUnauthorized: () => refused++ });
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
