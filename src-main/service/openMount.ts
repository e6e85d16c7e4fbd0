import type { Settings } from '../../src-shared/api.ts';
import { describeGuest, type GuestSpec, type MountSpec } from '../../src-shared/mountSpec.ts';
import { type GuestContext, openGuest } from '../guests/index.ts';
import { type HostContext, mountHost } from '../hosts/index.ts';
import type { Vfs } from '../vfs/types.ts';
import { wrapGuest } from '../vfs/wrapGuest.ts';
import type { OpenedMount } from './MountEntry.ts';
import { prepareMountPoint } from './mountFolder.ts';
import { nfsHandlesDir } from './paths.ts';

/** Brings a spec up: openGuest → wrapGuest → mountHost; closes the guest again when the host fails. */
export async function openMount(spec: MountSpec, settings: Settings): Promise<OpenedMount> {
  await prepareMountPoint(spec, settings);
  const vfs = wrapOpened(await openGuest(spec.guest, nodeContext(settings)), spec.guest);
  try {
    const host = await mountHost(spec.host, vfs, hostContext(spec.guest));
    return { vfs, host };
  } catch (err) {
    await vfs.close().catch(() => undefined);
    throw err;
  }
}

/**
 * The guest opened for `guest`, wrapped with the deadline and the cache expiry its spec asks
 * for (wrapGuest), in the service and in the CLI's foreground mounts alike.
 */
export function wrapOpened(raw: Vfs, guest: GuestSpec): Vfs {
  return wrapGuest(raw, {
    ...(guest.timeoutMs !== undefined ? { timeoutMs: guest.timeoutMs } : {}),
    ...(guest.cacheExpiryMs !== undefined ? { cacheExpiryMs: guest.cacheExpiryMs } : {}),
  });
}

/**
 * What the host of a mount of `guest` is given besides its spec, in the service and in the
 * CLI's foreground mounts alike: the kernel's attribute cache, and what the NFS host keeps
 * its handles by across restarts (HandleTable).
 */
export function hostContext(guest: GuestSpec): HostContext {
  return {
    exportKey: describeGuest(guest),
    handlesDir: nfsHandlesDir(),
    ...(guest.cacheExpiryMs !== undefined ? { attrTimeoutMs: guest.cacheExpiryMs } : {}),
  };
}

/** The node settings a guest is opened with (discover.ts), from the app settings. */
export function nodeContext(settings: Settings): GuestContext {
  return {
    ...(settings.ipfsNode ? { defaultNode: settings.ipfsNode } : {}),
    ...(settings.trustlessGateways ? { gateways: settings.trustlessGateways } : {}),
    ...(settings.offline !== undefined ? { offline: settings.offline } : {}),
    ...(settings.blockCacheMaxBytes !== undefined ? { cacheMaxBytes: settings.blockCacheMaxBytes } : {}),
    ...(settings.listingCacheMaxBytes !== undefined ? { listingCacheMaxBytes: settings.listingCacheMaxBytes } : {}),
  };
}
