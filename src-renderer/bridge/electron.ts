import type { Bridge, BridgeChannel, BridgeEvent, IpcResult, PreloadApi } from '../../src-shared/bridge.ts';
import { BRIDGE_CHANNELS, BridgeError } from '../../src-shared/bridge.ts';

// The Electron face of the bridge: `window.berth` (the sandboxed preload, one function per
// channel) answers IpcResults, because an Error thrown across contextBridge loses its
// fields. This turns each answer back into a value or a BridgeError carrying the
// service's {kind, message, hint}, so components handle both faces alike.

/** The value of an IpcResult, or its error thrown as a BridgeError. */
export function unwrap<T>(result: IpcResult<T>): T {
  if (result && result.ok === true) return result.value;
  if (result && result.ok === false) throw new BridgeError(result.error);
  throw new BridgeError({ kind: 'Internal', message: 'the desktop app answered something that is not an IpcResult' });
}

/** Creates the Electron bridge over the preload's API. */
export function createElectronBridge(api: PreloadApi): Bridge {
  const channels = Object.fromEntries(
    (Object.keys(BRIDGE_CHANNELS) as BridgeChannel[]).map((name) => [name, async (input?: unknown) => unwrap<unknown>(await api[name](input))]),
  ) as unknown as Omit<Bridge, 'kind' | 'capabilities' | 'subscribe'>;
  return {
    kind: 'electron',
    capabilities: api.capabilities,
    ...channels,
    subscribe(listener) {
      // Events pushed before the snapshot answer was sent are already in it: IPC keeps
      // order on the one channel between main and this window, so events are held back
      // until the snapshot is delivered and dropped if they came before it.
      let ready = false;
      let closed = false;
      const off = api.onEvent((ev: BridgeEvent) => {
        if (!closed && (ready || ev.type === 'snapshot' || ev.type === 'openAdd' || ev.type === 'connection')) listener(ev);
      });
      listener({ type: 'connection', data: { state: 'connecting' } });
      void api
        .snapshot()
        .then((r) => {
          if (closed) return;
          listener({ type: 'snapshot', data: unwrap(r) });
          ready = true;
          listener({ type: 'connection', data: { state: 'open' } });
        })
        .catch((err: unknown) => {
          if (closed) return;
          const message = err instanceof BridgeError ? err.message : String(err);
          listener({ type: 'connection', data: { state: 'lost', message: `The Berth service did not answer: ${message}.` } });
        });
      return () => {
        closed = true;
        off();
      };
    },
  };
}
