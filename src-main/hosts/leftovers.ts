import { resolve as resolvePath } from 'node:path';
import type { HostSpec } from '../../src-shared/mountSpec.ts';
import { probeMountpoint } from './fuseMountPoint.ts';
import { lazyUnmount } from './fuseUnmount.ts';
import { isFuseType, readMountInfo } from './mountInfo.ts';

/** Something the user should be told about a host's target before anything is mounted. */
export interface LeftoverNote {
  level: 'info' | 'warning';
  message: string;
}

/**
 * Before anything is mounted: a FUSE mount at a spec's mount point is a leftover of an
 * earlier run that died with its helper (hosts detach their mounts when their process
 * dies, see sys/runCommand.ts). One that no longer answers (ENOTCONN) is detached lazily
 * and reported; a live one belongs to someone else and is left alone (mounting there then
 * fails with a clear error). NFS hosts leave nothing behind.
 */
export async function cleanLeftovers(hosts: readonly HostSpec[], log: (message: string) => void): Promise<LeftoverNote[]> {
  const notes: LeftoverNote[] = [];
  const infos = await readMountInfo();
  for (const host of hosts) {
    if (host.kind !== 'fuse') continue;
    const mp = resolvePath(host.mountpoint);
    const found = infos.findLast((m) => m.mountpoint === mp);
    if (!found || !isFuseType(found.fstype)) continue;
    const probe = await probeMountpoint(mp);
    if (probe !== 'dead') {
      log(`a ${probe === 'hung' ? 'hung' : 'live'} ${found.fstype} mount (${found.source}) already sits at ${mp}; leaving it alone`);
      continue;
    }
    try {
      await lazyUnmount(mp);
      notes.push({ level: 'info', message: `cleaned a dead mount left at ${mp} by an earlier run` });
    } catch (err) {
      notes.push({ level: 'warning', message: `a dead mount is left at ${mp} and could not be cleaned: ${(err as Error).message}` });
    }
  }
  return notes;
}
