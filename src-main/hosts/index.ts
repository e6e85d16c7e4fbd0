import type { HostSpec } from '../../src-shared/mountSpec.ts';
import { FsError } from '../vfs/FsError.ts';
import type { Vfs } from '../vfs/types.ts';
import { type FuseMountOptions, fuseHost } from './fuse.ts';
import { fuse3Host } from './fuse3/fuse3Host.ts';
import { hasLibFuse3 } from './fuse3/libfuse3.ts';
import { nfsHost } from './nfs.ts';
import type { Host, MountedHost } from './types.ts';

export { cleanLeftovers, type LeftoverNote } from './leftovers.ts';
export type { MountedHost, MountEnd } from './types.ts';

/** What a host needs besides its spec. */
export interface HostContext {
  /** Kernel attribute cache for mutable guests (FUSE), usually the guest's cacheExpiryMs. */
  attrTimeoutMs?: number;
  /**
   * What is served, in words that stay the same across restarts (describeGuest): the NFS
   * host derives its handles' export bytes and fsid from it, so an NFS client's root handle
   * still works after Berth restarts.
   */
  exportKey?: string;
  /** Folder where NFS exports on fixed ports leave their handle tables for their next run (NfsHostOptions.handlesDir). */
  handlesDir?: string;
}

/**
 * The FUSE host of this machine: libfuse 3's low-level API where libfuse 3 loads (Linux),
 * else fuse-native on libfuse 2 (macOS with macFUSE, distributions without libfuse 3).
 * BERTH_FUSE=2 forces the fallback (benchmarks and comparisons).
 */
export function fuseHostHere(): Host<FuseMountOptions> {
  return process.env.BERTH_FUSE !== '2' && hasLibFuse3() ? fuse3Host : fuseHost;
}

/** Presents a (wrapped) vfs the way a host spec says; resolves once it is served. */
export async function mountHost(host: HostSpec, vfs: Vfs, ctx: HostContext = {}): Promise<MountedHost> {
  switch (host.kind) {
    case 'fuse':
      return fuseHostHere().mount(vfs, host.mountpoint, {
        readOnly: host.readOnly,
        allowOther: host.allowOther,
        uid: host.uid,
        gid: host.gid,
        options: host.options,
        attrTimeoutMs: ctx.attrTimeoutMs,
      });
    case 'nfs':
      return nfsHost.mount(vfs, host.listen, {
        readOnly: host.readOnly,
        clients: host.clients,
        rootSquash: host.rootSquash,
        reservedPort: host.reservedPort,
        allowUids: host.allowUids,
        ...(ctx.exportKey !== undefined ? { exportKey: ctx.exportKey } : {}),
        ...(ctx.handlesDir !== undefined ? { handlesDir: ctx.handlesDir } : {}),
      });
    default: {
      const never: never = host;
      throw new FsError('InvalidItem', `unknown host kind ${JSON.stringify((never as { kind: unknown }).kind)}`);
    }
  }
}
