import { readFile } from 'node:fs/promises';
import { firstEntryInChild } from '../hosts/probeInChild.ts';
import { runCommand } from '../sys/runCommand.ts';

/** One line of /proc/self/mountinfo that matters to the service. */
export interface MountInfoEntry {
  mountpoint: string;
  fstype: string;
  source: string;
}

/** Undoes the octal escapes the kernel writes for space, tab, newline and backslash. */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parses mountinfo text (proc(5)): fields up to " - ", then fstype and source. */
export function parseMountInfo(text: string): MountInfoEntry[] {
  const out: MountInfoEntry[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    const mp = left[4];
    if (!mp) continue;
    out.push({ mountpoint: unescapeMountPath(mp), fstype: right[0] ?? '', source: unescapeMountPath(right[1] ?? '') });
  }
  return out;
}

/** The current mounts of this process's mount namespace (empty where /proc is missing). */
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

/** The FUSE mount at `mountpoint`, if any. */
export async function fuseMountAt(mountpoint: string): Promise<MountInfoEntry | undefined> {
  return (await readMountInfo()).find((m) => m.mountpoint === mountpoint && isFuseType(m.fstype));
}

/**
 * Whether a mount point answers: 'ok' (it answered, even with an error), 'dead'
 * (ENOTCONN: its FUSE process is gone), 'missing', or 'hung' (no answer within
 * `timeoutMs`). The look happens in a child process that is killed at the deadline: a
 * node:fs call on a hung mount would hold a threadpool thread forever, and one on a mount
 * this process serves could deadlock it (hosts/probeInChild.ts).
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

/** Detaches a FUSE mount at once even while files are open (`fusermount -uz`, else `umount -l`). */
export async function lazyUnmount(mountpoint: string): Promise<void> {
  const run = async (cmd: string, args: string[]) => {
    const r = await runCommand(cmd, args, { timeoutMs: 10_000 });
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim() || `exit status ${r.code}`}`);
  };
  try {
    await run('fusermount', ['-uz', mountpoint]);
  } catch (first) {
    try {
      await run('umount', ['-l', mountpoint]);
    } catch {
      if (await fuseMountAt(mountpoint)) throw first;
    }
  }
}

/** Tries a clean `fusermount -u`; resolves with why it failed (busy files), or undefined once nothing is mounted there. */
export async function cleanUnmount(mountpoint: string): Promise<string | undefined> {
  if (!(await fuseMountAt(mountpoint))) return undefined;
  const r = await runCommand('fusermount', ['-u', mountpoint], { timeoutMs: 10_000 });
  const failure = r.code === 0 ? undefined : r.stderr.trim() || `fusermount -u exited with status ${r.code}`;
  if (failure === undefined || !(await fuseMountAt(mountpoint))) return undefined;
  return failure;
}
