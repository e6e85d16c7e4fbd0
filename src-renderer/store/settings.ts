import type { InfoResponse, NodeStatus, Settings } from '../../src-shared/api.ts';
import type { BridgeCapabilities, DesktopSettings } from '../../src-shared/bridge.ts';

// The settings slice: who serves the page and how it is set up: the face and what it can
// do, the service's identity and settings, the desktop app's own settings, and the
// default IPFS node's status for the header line.

/** The settings slice. */
export interface SettingsSlice {
  /** Which face this is and what it can do (set once the bridge is picked). */
  bridgeKind: 'electron' | 'browser';
  capabilities: BridgeCapabilities;
  info?: InfoResponse;
  settings?: Settings;
  /** The desktop app's own settings (Electron only). */
  desktopSettings?: DesktopSettings;
  node?: NodeStatus;
}

/** Before the first snapshot. */
export function initialSettings(): SettingsSlice {
  return { bridgeKind: 'browser', capabilities: { pickFolder: false, openFolder: false, desktopSettings: false } };
}
