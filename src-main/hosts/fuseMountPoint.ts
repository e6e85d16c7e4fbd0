import { setMaxListeners } from 'node:events';
import * as fsp from 'node:fs/promises';
import type { ShutdownLevel } from '../../src-shared/api.ts';
import { startCommandHelper } from '../sys/runCommand.ts';
import { FsError, toFsError } from '../vfs/FsError.ts';
import type { Vfs } from '../vfs/types.ts';
import { isFuseType, readMountInfo } from './mountInfo.ts';
import { firstEntryInChild, statInChild } from './probeInChild.ts';

// Facts about mount points: whether a folder can take a FUSE mount, and whether a mount
// there still answers; and what both FUSE hosts do before mounting and to unmount. Only /proc/self/mountinfo is read through node:fs (mountInfo.ts);
// mount points are probed by child processes.

/** How long a probe of a mount point may take before it counts as hung. */
const PROBE_TIMEOUT_MS = 10_000;

/**
 * Throws a clear FsError unless `mountpoint` is an empty folder with nothing mounted on it.
 * A folder below a FUSE mount (possibly one this process serves, possibly a hung one) is
 * looked at from a child process (see probeInChild.ts); a plain folder through node:fs,
 * which costs no process spawn (50 mounts at once spawned 100 children).
 */
export async function checkMountPoint(mountpoint: string): Promise<void> {
  if (!mountpoint.startsWith('/')) throw new FsError('InvalidItem', `mount point must be an absolute path, got ${JSON.stringify(mountpoint)}`);
  const infos = await readMountInfo();
  if (infos.some((m) => m.mountpoint === mountpoint)) {
    throw new FsError('Exist', `mount point ${mountpoint} is already mounted (unmount it first: fusermount -u ${mountpoint})`);
  }
  const belowFuse = infos.some((m) => isFuseType(m.fstype) && (m.mountpoint === '/' || mountpoint.startsWith(`${m.mountpoint}/`)));
  return belowFuse ? checkInChild(mountpoint) : checkHere(mountpoint);
}

/** checkMountPoint's look through node:fs, for a folder that no FUSE mount holds. */
async function checkHere(mountpoint: string): Promise<void> {
  let st;
  try {
    st = await fsp.stat(mountpoint);
  } catch (err) {
    throw probeError(mountpoint, (err as NodeJS.ErrnoException).code ?? 'EIO', String(err));
  }
  if (!st.isDirectory()) throw new FsError('NotDir', `mount point ${mountpoint} is not a folder`);
  const dir = await fsp.opendir(mountpoint);
  try {
    if ((await dir.read()) !== null) {
      throw new FsError('NotEmpty', `mount point ${mountpoint} is not empty (FUSE would hide its files; use an empty folder)`);
    }
  } finally {
    await dir.close().catch(() => {});
  }
}

/** checkMountPoint's look from child processes, for a folder below a FUSE mount. */
async function checkInChild(mountpoint: string): Promise<void> {
  const st = await statInChild(mountpoint, PROBE_TIMEOUT_MS);
  if (!st.ok) throw probeError(mountpoint, st.code, st.message);
  if (!st.isDir) throw new FsError('NotDir', `mount point ${mountpoint} is not a folder`);
  const first = await firstEntryInChild(mountpoint, PROBE_TIMEOUT_MS);
  if (!first.ok) throw probeError(mountpoint, first.code, first.message);
  if (!first.empty) throw new FsError('NotEmpty', `mount point ${mountpoint} is not empty (FUSE would hide its files; use an empty folder)`);
}

/** A failed look at a mount point, said the way a user can act on. */
function probeError(mountpoint: string, code: string, message: string): FsError {
  switch (code) {
    case 'ENOENT':
      return new FsError('NotExist', `mount point ${mountpoint} does not exist (create an empty folder there)`);
    case 'ENOTCONN':
    case 'ECONNABORTED':
      return new FsError('Exist', `mount point ${mountpoint} holds a dead FUSE mount (clear it with: fusermount -uz ${mountpoint})`);
    case 'ENOTDIR':
      return new FsError('NotDir', `mount point ${mountpoint} is not a folder`);
    case 'EACCES':
    case 'EPERM':
      return new FsError('Permission', `mount point ${mountpoint} is not accessible: ${code}`);
    case 'HUNG':
      return new FsError('Timeout', `mount point ${mountpoint} did not answer within ${PROBE_TIMEOUT_MS} ms (a hung mount above it?)`);
    default:
      return new FsError('IO', `mount point ${mountpoint}: ${message}`);
  }
}

/**
 * Whether a mount point answers: 'ok' (it answered, even with an error), 'dead'
 * (ENOTCONN: its FUSE process is gone), 'missing', or 'hung' (no answer within
 * `timeoutMs`). The look happens in a child process that is killed at the deadline: a
 * node:fs call on a hung mount would hold a threadpool thread forever, and one on a mount
 * this process serves could deadlock it (probeInChild.ts).
 */
export async function probeMountpoint(mountpoint: string, timeoutMs = 2000): Promise<'ok' | 'dead' | 'hung' | 'missing'> {
  // Reading the folder, not a stat: the kernel answers stat from its attribute cache even
  // for a mount whose FUSE process is gone; reading the folder has to reach the process.
  const r = await firstEntryInChild(mountpoint, timeoutMs);
  if (r.ok) return 'ok';
  switch (r.code) {
    case 'ENOTCONN':
    case 'ECONNABORTED':
      return 'dead';
    case 'ENOENT':
      return 'missing';
    case 'HUNG':
      return 'hung';
    default:
      // Any other error comes from a live FUSE process.
      return 'ok';
  }
}

/** What both FUSE hosts establish before a mount: the signal of its requests and how it presents the guest. */
export interface PreparedFuseMount {
  /** Aborted when the mount goes away (owned by the host); every request's calls get its signal. */
  ac: AbortController;
  /** Content never changes: the kernel may keep pages and attributes. */
  immutable: boolean;
  writable: boolean;
}

/**
 * The preamble of every FUSE mount: the command helper running (it detaches a mount whose
 * process dies), the mount point free, and the guest's root answering as a folder, so a
 * guest that cannot start fails here, before the kernel waits on it.
 */
export async function prepareFuseMount(vfs: Vfs, mountpoint: string, opts: { immutable?: boolean; readOnly?: boolean }): Promise<PreparedFuseMount> {
  startCommandHelper();
  await checkMountPoint(mountpoint);
  const ac = new AbortController();
  // Every request in flight listens on this one signal (vfs/withTimeouts.ts links to it).
  setMaxListeners(0, ac.signal);
  const rootAttr = await vfs.getattr('/', { signal: AbortSignal.timeout(60_000) }).catch((err: unknown) => {
    throw toFsError(err);
  });
  if (rootAttr.type !== 'dir') throw new FsError('NotDir', `${vfs.name}: the root is a ${rootAttr.type}, not a folder`);
  return { ac, immutable: opts.immutable ?? rootAttr.immutable === true, writable: !vfs.readOnly && !opts.readOnly };
}

/**
 * A mounted host's unmount(level) over its one attempt `take`: gentle levels share one
 * attempt (tried again after one that failed), and `immediate` never waits behind a gentler
 * one still waiting for busy files.
 */
export function unmountByLevel(take: (level: ShutdownLevel) => Promise<string | undefined>): (level?: ShutdownLevel) => Promise<string | undefined> {
  let gentle: Promise<string | undefined> | undefined;
  return (level = 'short') => {
    if (level === 'immediate') return take('immediate');
    gentle ??= take(level).catch((err: unknown) => {
      gentle = undefined;
      throw err;
    });
    return gentle;
  };
}
