import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BridgeEvent, IpcResult, PreloadApi, Snapshot } from '../../../../src-shared/bridge.ts';
import { createElectronBridge } from '../../../../src-renderer/bridge/electron.ts';
import { TOAST_MS } from '../../../../src-renderer/store/actions.ts';
import { copyFor, startFollowing, toggleMount } from '../../../../src-renderer/store/commands.ts';
import { resetStore, useBerth } from '../../../../src-renderer/store/index.ts';
import { CID, INFO, mount, SETTINGS } from '../fixtures.ts';

// The window's commands through the Electron bridge, with the preload (the Electron
// runtime, which cannot run here) replaced by a double answering IpcResults.

type Calls = { name: string; input: unknown }[];

/** A window.berth double: answers come from `answers`, events go to the listener it was given. */
function preloadDouble(answers: Record<string, (input: unknown) => IpcResult<unknown>>, calls: Calls) {
  let push: ((ev: BridgeEvent) => void) | undefined;
  const snap: Snapshot = { mounts: [mount('a'), mount('nfs', { spec: { ...mount('nfs').spec, guest: { kind: 'nfs', server: '/ip4/10.0.0.2/tcp/2049', export: '/' } } })], settings: SETTINGS, notices: [], info: INFO };
  const api = new Proxy(
    {
      kind: 'electron',
      capabilities: { pickFolder: true, openFolder: true, desktopSettings: true },
      onEvent: (l: (ev: BridgeEvent) => void) => {
        push = l;
        return () => (push = undefined);
      },
      snapshot: async () => ({ ok: true, value: snap }),
    } as Record<string, unknown>,
    {
      get(target, name: string) {
        if (name in target) return target[name];
        return async (input: unknown) => {
          calls.push({ name, input });
          return (answers[name] ?? (() => ({ ok: true, value: undefined })))(input);
        };
      },
    },
  ) as unknown as PreloadApi;
  return { api, push: (ev: BridgeEvent) => push?.(ev) };
}

describe('commands over the Electron bridge', () => {
  let calls: Calls;
  let stop: () => void;
  beforeEach(() => {
    calls = [];
  });
  afterEach(() => {
    stop?.();
    resetStore();
    vi.useRealTimers();
  });

  it('"Copy CID" asks the service for the link, writes the clipboard and says "Copied" with the text for 2 s', async () => {
    vi.useFakeTimers();
    const d = preloadDouble(
      { entryLink: () => ({ ok: true, value: { mountId: 'a', path: '/', cid: CID, link: `http://127.0.0.1:8080/ipfs/${CID}`, form: 'path', native: `ipfs://${CID}` } }) },
      calls,
    );
    stop = startFollowing(createElectronBridge(d.api));
    await vi.waitFor(() => expect(useBerth.getState().loaded).toBe(true));
    await copyFor({ id: 'a', path: '/' }, 'cid');
    expect(calls.map((c) => c.name)).toEqual(expect.arrayContaining(['entryLink', 'writeClipboard']));
    expect(calls.find((c) => c.name === 'writeClipboard')?.input).toEqual({ text: CID });
    expect(useBerth.getState().toasts).toEqual([expect.objectContaining({ tone: 'info', title: 'Copied', text: CID })]);
    vi.advanceTimersByTime(TOAST_MS.info + 1);
    expect(useBerth.getState().toasts).toEqual([]);
  });

  it('a refusal shows as a toast in the service\'s words, message then hint', async () => {
    const d = preloadDouble(
      { mount: () => ({ ok: false, error: { kind: 'Unavailable', message: 'nothing answers at /ip4/127.0.0.1/tcp/5001', hint: 'start Kubo (`ipfs daemon`)' } }) },
      calls,
    );
    stop = startFollowing(createElectronBridge(d.api));
    await vi.waitFor(() => expect(useBerth.getState().loaded).toBe(true));
    useBerth.setState((s) => ({ mountsById: { ...s.mountsById, a: { ...s.mountsById.a!, state: 'failed' } } }));
    await toggleMount('a');
    expect(useBerth.getState().toasts).toEqual([
      expect.objectContaining({ tone: 'error', title: 'Could not mount a: nothing answers at /ip4/127.0.0.1/tcp/5001', text: 'start Kubo (`ipfs daemon`)' }),
    ]);
  });

  it('the switch of a mounted mount unmounts it; a busy one does nothing', async () => {
    const d = preloadDouble({}, calls);
    stop = startFollowing(createElectronBridge(d.api));
    await vi.waitFor(() => expect(useBerth.getState().loaded).toBe(true));
    await toggleMount('a');
    const toggles = () => calls.filter((c) => c.name === 'mount' || c.name === 'unmount');
    expect(toggles()).toEqual([{ name: 'unmount', input: { id: 'a' } }]);
    d.push({ type: 'mount', data: { mount: mount('a', { state: 'unmounting' }) } });
    await toggleMount('a');
    expect(toggles()).toHaveLength(1);
  });
});
