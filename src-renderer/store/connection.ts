import type { ConnectionState } from '../../src-shared/bridge.ts';

// The connection slice: whether the bridge follows the service's events. The browser face
// can lose the daemon (stopped, restarted); the banner shows it until the stream is back.

/** The connection slice. */
export interface ConnectionSlice {
  connection: ConnectionState;
  /** True once a snapshot arrived at least once: the table shown is the service's. */
  loaded: boolean;
}

/** Connecting, nothing loaded. */
export function initialConnection(): ConnectionSlice {
  return { connection: { state: 'connecting' }, loaded: false };
}
