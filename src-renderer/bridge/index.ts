import type { Bridge, PreloadApi } from '../../src-shared/bridge.ts';
import { createElectronBridge } from './electron.ts';
import { createHttpBridge } from './http.ts';
import { forgetToken, takeToken } from './token.ts';

// Picks the bridge for where the page runs: the Electron window has `window.berth` from
// its preload; a browser tab talks to `berth daemon --ui` over HTTP with the token from
// the address. Nothing else in the renderer knows which one it got.

declare global {
  interface Window {
    /** Set by the Electron preload only. */
    berth?: PreloadApi;
  }
}

/** The bridge, or why there is none (a browser page opened without its token). */
export type PickedBridge = { ok: true; bridge: Bridge } | { ok: false; reason: 'no-token' };

/** Chooses the bridge for this page. */
export function pickBridge(win: Window = window): PickedBridge {
  if (win.berth && win.berth.kind === 'electron') return { ok: true, bridge: createElectronBridge(win.berth) };
  const env = { location: win.location, history: win.history, storage: win.sessionStorage };
  const token = takeToken(env);
  if (!token) return { ok: false, reason: 'no-token' };
  return {
    ok: true,
    bridge: createHttpBridge({ origin: win.location.origin, token, onUnauthorized: () => forgetToken(env) }),
  };
}
