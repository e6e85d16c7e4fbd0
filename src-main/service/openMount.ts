import type { Settings } from '../../src-shared/api.ts';
import { describeGuest, type GuestSpec, type MountSpec } from '../../src-shared/mountSpec.ts';
import { type GuestContext, openGuest } from '../guests/index.ts';
import { type HostContext, mountHost } from '../hosts/index.ts';
import { wrapGuest } from '../vfs/wrapGuest.ts';
import type { OpenedMount } from './MountEntry.ts';
import { prepareMountPoint } from './mountFolder.ts';
import { nfsHandlesDir } from './paths.ts';

/** Brings a spec up: openGuest → wrapGuest → mountHost; closes the guest again when the host fails. */
export async function openMount(spec: MountSpec, settings: Settings): Promise<OpenedMount> {
  await prepareMountPoint(spec, settings);
  const raw = await openGuest(spec.guest, nodeContext(settings));
  const { timeoutMs, cacheExpiryMs } = spec.guest;
  const vfs = wrapGuest(raw, {
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(cacheExpiryMs !== undefined ? { cacheExpiryMs } : {}),
  });
  try {
    const host = await mountHost(spec.host, vfs, hostContext(spec.guest));
    return { vfs, host };
  } catch (err) {
    await vfs.close().catch(() => undefined);
    throw err;
  }
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
