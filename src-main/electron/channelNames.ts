import type { BridgeChannel, IPC_EVENT_CHANNEL, IPC_SNAPSHOT_CHANNEL } from '../../src-shared/bridge.ts';

// The bridge's channel names for the sandboxed preload, without importing the contract's
// zod schemas at run time (the preload bundles everything it imports, and needs only
// names). The compiler holds this list equal to the contract: `satisfies` refuses a name
// the contract lacks, and `Missing` fails the build when the contract gains one.

/** Every bridge channel (service and desktop), as in BRIDGE_CHANNELS. */
export const CHANNEL_NAMES = [
  'info',
  'listMounts',
  'addMount',
  'updateMount',
  'removeMount',
  'mount',
  'unmount',
  'mountAll',
  'unmountAll',
  'getSettings',
  'updateSettings',
  'listNotices',
  'dismissNotice',
  'resolve',
  'link',
  'browse',
  'entryLink',
  'nodeStatus',
  'writeClipboard',
  'addContent',
  'pickFolder',
  'openFolder',
  'getDesktopSettings',
  'updateDesktopSettings',
] as const satisfies readonly BridgeChannel[];

/** Channels of the contract missing from CHANNEL_NAMES (must be never). */
type Missing = Exclude<BridgeChannel, (typeof CHANNEL_NAMES)[number]>;
/** Compile-time proof that no channel is missing. */
export const CHANNEL_NAMES_COMPLETE: [Missing] extends [never] ? true : Missing = true;

/** IPC_EVENT_CHANNEL, checked against the contract's literal. */
export const EVENT_CHANNEL: typeof IPC_EVENT_CHANNEL = 'berth:event';
/** IPC_SNAPSHOT_CHANNEL, checked against the contract's literal. */
export const SNAPSHOT_CHANNEL: typeof IPC_SNAPSHOT_CHANNEL = 'berth:snapshot';

/** The IPC channel of a bridge channel, as ipcChannel() in the contract names it. */
export function channelOf<N extends BridgeChannel>(name: N): `berth:${N}` {
  return `berth:${name}`;
}
