import { readFile } from 'node:fs/promises';

// The one reader of /proc/self/mountinfo (proc(5)): the FUSE host, its watcher, the
// leftover check and the tests all see the kernel's mount table through it.

/** One line of /proc/self/mountinfo, reduced to what Berth needs. */
export interface MountInfoEntry {
  /** The kernel's mount id (first field): a later mount at the same place has another. */
  id: number;
  /** The device, "major:minor" (a FUSE mount's minor names its connection in /sys/fs/fuse/connections). */
  dev: string;
  mountpoint: string;
  fstype: string;
  source: string;
}

/** Undoes the octal escapes the kernel writes for space, tab, newline and backslash. */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parses mountinfo text: the fields before " - " (id, parent, dev, root, mount point, ...), then fstype and source. */
export function parseMountInfo(text: string): MountInfoEntry[] {
  const out: MountInfoEntry[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    const id = Number(left[0]);
    const mp = left[4];
    if (!mp || !Number.isInteger(id)) continue;
    out.push({ id, dev: left[2] ?? '', mountpoint: unescapeMountPath(mp), fstype: right[0] ?? '', source: unescapeMountPath(right[1] ?? '') });
  }
  return out;
}

/** The current mounts of this process's mount namespace (empty where /proc is missing: macOS). */
export async function readMountInfo(): Promise<MountInfoEntry[]> {
  try {
    return parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
  } catch {
    return [];
  }
}

/** True for FUSE file systems ("fuse", "fuse.<name>", "fuseblk"). */
export function isFuseType(fstype: string): boolean {
  return fstype === 'fuse' || fstype === 'fuseblk' || fstype.startsWith('fuse.');
}

/** The topmost mount at `mountpoint`, if any. */
export async function mountAt(mountpoint: string): Promise<MountInfoEntry | undefined> {
  return (await readMountInfo()).findLast((m) => m.mountpoint === mountpoint);
}

/** True when something is mounted exactly at `mountpoint`. */
export async function isMounted(mountpoint: string): Promise<boolean> {
  return (await mountAt(mountpoint)) !== undefined;
}
