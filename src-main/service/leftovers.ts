import { resolve as resolvePath } from 'node:path';
import type { Notice } from '../../src-shared/api.ts';
import type { MountSpec } from '../../src-shared/mountSpec.ts';
import { isFuseType, lazyUnmount, probeMountpoint, readMountInfo } from './mountinfo.ts';

/**
 * Before anything is mounted, a FUSE mount at a spec's mount point is a leftover of a
 * crashed earlier run: when it no longer answers (ENOTCONN) it is detached lazily and the
 * user told; a live one belongs to someone else and is left alone (mounting there then
 * fails with a clear error).
 */
export async function cleanLeftovers(specs: MountSpec[], notice: (level: Notice['level'], message: string) => void, log: (message: string) => void): Promise<void> {
  const infos = await readMountInfo();
  for (const spec of specs) {
    if (spec.host.kind !== 'fuse') continue;
    const mp = resolvePath(spec.host.mountpoint);
    const found = infos.find((m) => m.mountpoint === mp);
    if (!found || !isFuseType(found.fstype)) continue;
    const probe = await probeMountpoint(mp);
    if (probe !== 'dead') {
      log(`a ${probe === 'hung' ? 'hung' : 'live'} ${found.fstype} mount (${found.source}) already sits at ${mp}; leaving it alone`);
      continue;
    }
    try {
      await lazyUnmount(mp);
      notice('info', `cleaned a dead mount left at ${mp} by an earlier run`);
    } catch (err) {
      notice('warning', `a dead mount is left at ${mp} and could not be cleaned: ${(err as Error).message}`);
    }
  }
}
