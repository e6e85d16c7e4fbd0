import { execFile } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import { FsError } from '../vfs/FsError.ts';

// Facts about mount points from the kernel's point of view: what /proc/self/mountinfo
// lists, whether a folder can take a FUSE mount, and how to take one away.

/** Decodes the octal escapes (\040 for a space) the kernel writes into mountinfo paths. */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** One line of /proc/self/mountinfo, reduced to what Berth needs. */
export interface MountInfoEntry {
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

/** Throws a clear FsError unless `mountpoint` is an empty folder with nothing mounted on it. */
export async function checkMountPoint(mountpoint: string): Promise<void> {
  if (!mountpoint.startsWith('/')) throw new FsError('InvalidItem', `mount point must be an absolute path, got ${JSON.stringify(mountpoint)}`);
  if (await isMounted(mountpoint)) {
    throw new FsError('Exist', `mount point ${mountpoint} is already mounted (unmount it first: fusermount -u ${mountpoint})`);
  }
  let st;
  try {
    st = await fsp.stat(mountpoint);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FsError('NotExist', `mount point ${mountpoint} does not exist (create an empty folder there)`);
    if (code === 'ENOTCONN') {
      throw new FsError('Exist', `mount point ${mountpoint} holds a dead FUSE mount (clear it with: fusermount -uz ${mountpoint})`);
    }
    if (code === 'ENOTDIR') throw new FsError('NotDir', `mount point ${mountpoint} is not a folder`);
    if (code === 'EACCES' || code === 'EPERM') throw new FsError('Permission', `mount point ${mountpoint} is not accessible: ${code}`);
    throw new FsError('IO', `mount point ${mountpoint}: ${code ?? String(err)}`, { cause: err });
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

/** Runs fusermount with a deadline; resolves with its error text, or undefined on success. */
export function fusermount(args: string[], timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('fusermount', args, { timeout: timeoutMs }, (err, _stdout, stderr) => {
      resolve(err ? (stderr.trim() || err.message) : undefined);
    });
  });
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
