import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { BridgeEvent, PreloadApi } from '../../src-shared/bridge.ts';
import { CHANNEL_NAMES, channelOf, EVENT_CHANNEL, SNAPSHOT_CHANNEL } from './channelNames.ts';

// Sandboxed preload (built to CommonJS; it may require nothing but 'electron'). It exposes
// exactly PreloadApi as `window.berth`: one function per bridge channel, built from the
// channel list, plus `snapshot` and `onEvent`. Nothing generic (no send/invoke/on with a
// channel argument), and the page never sees an IpcRendererEvent (it holds `sender`).

const invoke = (channel: string) => (input?: unknown) => ipcRenderer.invoke(channel, input);

/** What the page sees as `window.berth`. */
const api = {
  kind: 'electron',
  capabilities: { pickFolder: true, openFolder: true, desktopSettings: true },
  onEvent(listener: (ev: BridgeEvent) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError('onEvent expects a function');
    const forward = (_event: IpcRendererEvent, ev: BridgeEvent) => listener(ev);
    ipcRenderer.on(EVENT_CHANNEL, forward);
    return () => void ipcRenderer.removeListener(EVENT_CHANNEL, forward);
  },
  snapshot: () => ipcRenderer.invoke(SNAPSHOT_CHANNEL),
  ...Object.fromEntries(CHANNEL_NAMES.map((name) => [name, invoke(channelOf(name))])),
} as PreloadApi;

contextBridge.exposeInMainWorld('berth', api);
