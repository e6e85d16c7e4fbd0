import { beforeAll, describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => import('../../../helpers/electron.ts'));

import { BRIDGE_CHANNELS, IPC_EVENT_CHANNEL, IPC_SNAPSHOT_CHANNEL, ipcChannel, type BridgeChannel, type PreloadApi } from '../../../../src-shared/bridge.ts';
import { contextBridge, electronDouble, ipcRenderer } from '../../../helpers/electron.ts';

// Issue 7 "Electron main": the preload exposes exactly the contract's channels, one
// function each, plus snapshot and onEvent, and nothing generic. The built bundle is
// checked the same way in test/integration/electron-build.test.ts.

describe('the preload (source)', () => {
  let berth: PreloadApi;
  beforeAll(async () => {
    electronDouble.reset();
    await import('../../../../src-main/electron/preload.ts');
    berth = contextBridge.exposed.berth as PreloadApi;
  });

  it('exposes window.berth and nothing else', () => {
    expect(Object.keys(contextBridge.exposed)).toEqual(['berth']);
  });

  it('has exactly one function per bridge channel, plus kind, capabilities, snapshot and onEvent', () => {
    const expected = [...Object.keys(BRIDGE_CHANNELS), 'kind', 'capabilities', 'snapshot', 'onEvent'].sort();
    expect(Object.keys(berth).sort()).toEqual(expected);
    for (const name of Object.keys(BRIDGE_CHANNELS)) expect(typeof berth[name as BridgeChannel], name).toBe('function');
    expect(berth.kind).toBe('electron');
    expect(berth.capabilities).toEqual({ pickFolder: true, openFolder: true, desktopSettings: true });
    // Nothing generic: no send/invoke/on taking a channel name.
    for (const generic of ['send', 'invoke', 'on', 'ipcRenderer', 'removeListener']) expect(berth).not.toHaveProperty(generic);
  });

  it('each function invokes its own channel with the one input, and nothing more', async () => {
    ipcRenderer.invoked.length = 0;
    for (const name of Object.keys(BRIDGE_CHANNELS) as BridgeChannel[]) await berth[name]({ probe: name });
    await berth.snapshot();
    expect(ipcRenderer.invoked).toEqual([
      ...Object.keys(BRIDGE_CHANNELS).map((name) => ({ channel: ipcChannel(name as BridgeChannel), args: [{ probe: name }] })),
      { channel: IPC_SNAPSHOT_CHANNEL, args: [] },
    ]);
  });

  it('onEvent hands the listener the event only (never the IPC event) and unsubscribes', () => {
    const seen: unknown[] = [];
    const off = berth.onEvent((ev) => seen.push(ev));
    ipcRenderer.emit(IPC_EVENT_CHANNEL, { sender: 'secret' }, { type: 'removed', data: { id: 'm_a' } });
    off();
    ipcRenderer.emit(IPC_EVENT_CHANNEL, { sender: 'secret' }, { type: 'removed', data: { id: 'm_b' } });
    expect(seen).toEqual([{ type: 'removed', data: { id: 'm_a' } }]);
    expect(ipcRenderer.listenerCount(IPC_EVENT_CHANNEL)).toBe(0);
    expect(() => berth.onEvent('nope' as never)).toThrow(TypeError);
  });
});
