import { describe, expect, it } from 'vitest';
import type { BridgeEvent, IpcResult, PreloadApi, Snapshot } from '../../../../src-shared/bridge.ts';
import { BRIDGE_CHANNELS, BridgeError } from '../../../../src-shared/bridge.ts';
import { createElectronBridge, unwrap } from '../../../../src-renderer/bridge/electron.ts';
import { INFO, mount, SETTINGS } from '../fixtures.ts';

// The Electron bridge over a double of window.berth (the preload cannot run here): the
// service's errors arrive with their words, and the first thing a window sees is the
// snapshot, never an event older than it.

function preload(over: Partial<Record<string, unknown>> = {}) {
  let listener: ((ev: BridgeEvent) => void) | undefined;
  let answer!: (r: IpcResult<Snapshot>) => void;
  const snapshot = new Promise<IpcResult<Snapshot>>((r) => (answer = r));
  const channels = Object.fromEntries(Object.keys(BRIDGE_CHANNELS).map((n) => [n, async () => ({ ok: true, value: n })]));
  const api = {
    kind: 'electron',
    capabilities: { pickFolder: true, openFolder: true, desktopSettings: true },
    onEvent: (l: (ev: BridgeEvent) => void) => {
      listener = l;
      return () => (listener = undefined);
    },
    snapshot: () => snapshot,
    ...channels,
    ...over,
  } as unknown as PreloadApi;
  return { api, push: (ev: BridgeEvent) => listener?.(ev), answer, listening: () => listener !== undefined };
}

describe('the Electron bridge', () => {
  it('turns an error answer into a BridgeError with the service\'s kind, message and hint', async () => {
    const p = preload({ addMount: async () => ({ ok: false, error: { kind: 'Conflict', message: 'the mount point /x is already used', hint: 'pick another one' } }) });
    const b = createElectronBridge(p.api);
    const err = await b.addMount({ spec: { host: { kind: 'fuse', mountpoint: '/x' }, guest: { kind: 'local', path: '/y' } } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BridgeError);
    expect((err as BridgeError).info).toEqual({ kind: 'Conflict', message: 'the mount point /x is already used', hint: 'pick another one' });
    expect(() => unwrap(undefined as unknown as IpcResult<number>)).toThrow(BridgeError);
  });

  it('answers every channel of the contract, with the preload\'s capabilities', async () => {
    const b = createElectronBridge(preload().api);
    for (const name of Object.keys(BRIDGE_CHANNELS)) expect(await (b as unknown as Record<string, () => Promise<unknown>>)[name]!()).toBe(name);
    expect(b.capabilities.pickFolder).toBe(true);
  });

  it('gives the snapshot first and drops events sent before it was taken', async () => {
    const p = preload();
    const seen: BridgeEvent['type'][] = [];
    const off = createElectronBridge(p.api).subscribe((ev) => seen.push(ev.type));
    expect(p.listening()).toBe(true);
    // Sent before the snapshot answer: already part of it.
    p.push({ type: 'mount', data: { mount: mount('old') } });
    // The shell's requests are never stale.
    p.push({ type: 'openAdd', data: { source: 'ipfs://x' } });
    p.answer({ ok: true, value: { mounts: [], settings: SETTINGS, notices: [], info: INFO } });
    await new Promise((r) => setTimeout(r, 0));
    p.push({ type: 'mount', data: { mount: mount('new') } });
    expect(seen).toEqual(['connection', 'openAdd', 'snapshot', 'connection', 'mount']);
    off();
    expect(p.listening()).toBe(false);
  });

  it('says the service did not answer when the snapshot fails', async () => {
    const p = preload();
    const seen: BridgeEvent[] = [];
    createElectronBridge(p.api).subscribe((ev) => seen.push(ev));
    p.answer({ ok: false, error: { kind: 'Unavailable', message: 'the service is starting' } });
    await new Promise((r) => setTimeout(r, 0));
    expect(seen.at(-1)).toEqual({ type: 'connection', data: { state: 'lost', message: 'The Berth service did not answer: the service is starting.' } });
  });
});
