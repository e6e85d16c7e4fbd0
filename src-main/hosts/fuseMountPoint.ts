import * as fsp from 'node:fs/promises';
import { FsError } from '../vfs/FsError.ts';
import { firstEntryInChild, statInChild } from './probeInChild.ts';
import { runCommand } from '../sys/runCommand.ts';

// Facts about mount points from the kernel's point of view: what /proc/self/mountinfo
// lists, whether a folder can take a FUSE mount, and how to take one away. Only
// /proc/self/mountinfo is read through node:fs; mount points are probed by child processes.

/** Decodes the octal escapes (\040 for a space) the kernel writes into mountinfo paths. */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** One line of /proc/self/mountinfo, reduced to what Berth needs. */
export interface MountInfoEntry {
  /** The kernel's mount id (first field): a later mount at the same place has another. */
  id: number;
  mountpoint: string;
  fstype: string;
  source: string;
}

/** Parses the mount table; empty where /proc is absent (macOS). */
export async function readMountInfo(): Promise<MountInfoEntry[]> {
  let text: string;
  try {
    text = await fsp.readFile('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const out: MountInfoEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 0 || fields.length < dash + 3) continue;
    out.push({
      id: Number(fields[0]),
      mountpoint: unescapeMountPath(fields[4] ?? ''),
      fstype: fields[dash + 1] ?? '',
      source: unescapeMountPath(fields[dash + 2] ?? ''),
    });
  }
  return out;
}

/** True when something is mounted exactly at `mountpoint`. */
export async function isMounted(mountpoint: string): Promise<boolean> {
  return (await readMountInfo()).some((m) => m.mountpoint === mountpoint);
}

/** How long a probe of a mount point may take before it counts as hung. */
const PROBE_TIMEOUT_MS = 10_000;

/** True for FUSE file systems ("fuse", "fuse.<name>", "fuseblk"). */
function isFuseType(fstype: string): boolean {
  return fstype === 'fuse' || fstype === 'fuseblk' || fstype.startsWith('fuse.');
}

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

/** Runs fusermount with a deadline (sys/runCommand.ts); resolves with its error text, or undefined on success. */
export async function fusermount(args: string[], timeoutMs: number): Promise<string | undefined> {
  const r = await runCommand('fusermount', args, { timeoutMs });
  if (r.code === 0) return undefined;
  return r.stderr.trim() || (r.timedOut ? `fusermount ${args.join(' ')} did not finish within ${timeoutMs} ms` : `fusermount exited with status ${r.code}`);
}

/**
 * Takes a FUSE mount away: a clean `fusermount -u` first; when that fails or hangs
 * (a process still uses the mount) a lazy `fusermount -uz`, which detaches it at once and
 * lets the kernel finish when the last user leaves. Resolves when nothing is mounted there.
 */
export async function fuseUnmount(mountpoint: string, timeoutMs = 5_000): Promise<void> {
  if (!(await isMounted(mountpoint))) return;
  const clean = await fusermount(['-u', mountpoint], timeoutMs);
  if (clean === undefined || !(await isMounted(mountpoint))) return;
  const lazy = await fusermount(['-uz', mountpoint], timeoutMs);
  if (lazy !== undefined && (await isMounted(mountpoint))) {
    throw new FsError('IO', `could not unmount ${mountpoint}: ${clean}; lazy unmount: ${lazy}`);
  }
}
