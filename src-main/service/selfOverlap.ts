import { resolve as resolvePath } from 'node:path';
import type { GuestSpec, HostSpec } from '../../src-shared/mountSpec.ts';

// A local guest reads its folder through node:fs, on libuv's threadpool. When that folder
// lies inside a FUSE mount the same process serves, or holds one, those reads wait on the
// pool for answers that need the pool: with enough of them at once the process deadlocks
// (issue 3). Such a mount is refused before it starts.

/** The parts of a mount this check looks at. */
export interface OverlapSpec {
  host: HostSpec;
  guest: GuestSpec;
}

/** True when `inner` is `outer` or lies below it. */
function within(inner: string, outer: string): boolean {
  return inner === outer || outer === '/' || inner.startsWith(`${outer}/`);
}

/**
 * Why serving `spec` in a process that serves `others` would make a local guest read
 * through one of that process's own FUSE mounts (its own included), or undefined.
 */
export function selfOverlap(spec: OverlapSpec, others: OverlapSpec[]): string | undefined {
  const mountOf = (s: OverlapSpec): string | undefined => (s.host.kind === 'fuse' ? resolvePath(s.host.mountpoint) : undefined);
  const folderOf = (s: OverlapSpec): string | undefined => (s.guest.kind === 'local' ? resolvePath(s.guest.path) : undefined);
  const clash = (folder: string | undefined, mount: string | undefined): string | undefined => {
    if (folder === undefined || mount === undefined) return undefined;
    if (within(folder, mount)) return `the local folder ${folder} lies inside the FUSE mount ${mount} served by this same Berth process`;
    if (within(mount, folder)) return `the FUSE mount ${mount} lies inside the local folder ${folder} served by this same Berth process`;
    return undefined;
  };
  const mine = { folder: folderOf(spec), mount: mountOf(spec) };
  const why =
    clash(mine.folder, mine.mount) ??
    others.map((o) => clash(mine.folder, mountOf(o)) ?? clash(folderOf(o), mine.mount)).find((w) => w !== undefined);
  return why && `${why}: its reads would wait on the process that has to answer them (it can hang); mount the original folder, or serve the other mount from another process`;
}
