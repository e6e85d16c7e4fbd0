import { chmodSync, closeSync, constants as C, openSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { runCommand } from '../sys/runCommand.ts';
import { FsError } from '../vfs/FsError.ts';
import type { SpecialType } from '../vfs/types.ts';
import { type CallName, PLATFORM } from './localLibc.ts';
import { needsChmod } from './localOwner.ts';
import type { NewOwner } from './localPaths.ts';

// Special nodes and mode changes of the local guest that Node's fs cannot make safely.
// Node has no mknod: fifos, sockets and devices are made by libc's mknodat on the folder's
// descriptor (mknodAt, both strategies; symlinkAt makes their symlinks the same way). A
// socket node is what a bind(2) through a mount asks for (FUSE MKNOD, NFS MKNOD of NF3SOCK):
// the kernel ties the bound socket to the mount's own inode, so clients that connect
// through the mount reach it, as on bindfs. Where libc does not load (localLibc.ts), the
// /proc strategy falls back to coreutils' mknod in a child process (makeSpecial), which
// creates "/proc/<this pid>/fd/<folder's descriptor>/name": the name resolves in the very
// folder this process holds open, so the containment proof of the folder holds there too.
// The child is started by the command helper (sys/runCommand.ts; a FUSE-serving process
// must have no child of its own), which is why the folder is reached through /proc/<pid>
// rather than handed over as fd 3. coreutils' mknod makes no sockets: there a bind answers
// EPERM, as mknod(2) does where a file system cannot hold the type asked for.

/** Linux's O_PATH (see localDirs.ts). */
const O_PATH = 0o10000000;

/** Linux dev_t as FUSE and NFS pass it (new_decode_dev): major and minor numbers. */
export function splitDev(rdev: number): { major: number; minor: number } {
  return { major: (rdev & 0xfff00) >>> 8, minor: (rdev & 0xff) | ((rdev >>> 12) & 0xfff00) };
}

/** Makes one *at call that must succeed (localAtWorker.ts callAt: on this thread or in the worker). */
type AtCall = (name: CallName, args: unknown[]) => Promise<unknown>;

/**
 * Makes the fifo, socket or device `name` in the folder open as `dirFd` by mknodat, given to
 * `owner` and with exactly `mode`, never following a symlink.
 */
export async function mknodAt(call: AtCall, dirFd: number, name: string, type: SpecialType, mode: number, rdev: number, owner: NewOwner): Promise<void> {
  await call('mknodat', [dirFd, name, ...mknodArgs(type, mode, rdev)]);
  await ownAt(call, dirFd, name, owner);
  if (needsChmod(mode, owner !== undefined)) await call('fchmodat', [dirFd, name, mode & 0o7777, PLATFORM!.AT_SYMLINK_NOFOLLOW]);
}

/** Makes the symlink `name` to `target` in the folder open as `dirFd` by symlinkat, given to `owner`. */
export async function symlinkAt(call: AtCall, target: string, dirFd: number, name: string, owner: NewOwner): Promise<void> {
  await call('symlinkat', [target, dirFd, name]);
  await ownAt(call, dirFd, name, owner);
}

/** Gives a node just made to `owner` (when one is asked), never following a symlink. */
async function ownAt(call: AtCall, dirFd: number, name: string, owner: NewOwner): Promise<void> {
  if (owner) await call('fchownat', [dirFd, name, owner.uid, owner.gid, PLATFORM!.AT_SYMLINK_NOFOLLOW]);
}

/** The file type bits mknod makes for each special type. */
const IFMT: Record<SpecialType, number> = { fifo: C.S_IFIFO, socket: C.S_IFSOCK, char: C.S_IFCHR, block: C.S_IFBLK };

/** mknodat's mode (type bits and `mode`) and dev arguments (a device's number; 0 for a fifo or socket). */
function mknodArgs(type: SpecialType, mode: number, rdev: number): [mode: number, dev: number | bigint] {
  return [IFMT[type] | (mode & 0o7777), type === 'char' || type === 'block' ? devOf(rdev) : 0];
}

/** dev_t of a FUSE/NFS rdev (Linux's encoding) for this platform's mknod. */
function devOf(rdev: number): number | bigint {
  const { major, minor } = splitDev(rdev);
  if (process.platform === 'darwin') return ((major & 0xff) << 24) | (minor & 0xffffff);
  // glibc's makedev.
  const M = BigInt(major);
  const m = BigInt(minor);
  return ((M & 0xfffff000n) << 32n) | ((M & 0xfffn) << 8n) | ((m & 0xffffff00n) << 12n) | (m & 0xffn);
}

/** Creates a fifo or device `name` inside the folder open as `dirFd` (Linux: through /proc); a socket is refused (EPERM). */
export async function makeSpecial(dirFd: number, name: string, type: SpecialType, mode: number, rdev: number): Promise<void> {
  const kind = type === 'fifo' ? ['p'] : type === 'char' || type === 'block' ? [type === 'char' ? 'c' : 'b', String(splitDev(rdev).major), String(splitDev(rdev).minor)] : undefined;
  if (!kind) throw new FsError('NotPermitted', `${name}: a socket is made with libc's mknodat, which did not load here`);
  const target = `/proc/${process.pid}/fd/${dirFd}/${name}`;
  const args = ['-m', (mode & 0o777).toString(8), '--', target, ...kind];
  const r = await runCommand('mknod', args, { timeoutMs: 10_000 });
  const stderr = r.code === 0 ? undefined : r.stderr || `exit ${r.code}`;
  if (stderr !== undefined) {
    // coreutils tells only in words; these are the errnos mknod(2) documents.
    const code = /File exists/.test(stderr) ? 'EEXIST' : /Operation not permitted/.test(stderr) ? 'EPERM' : /Permission denied/.test(stderr) ? 'EACCES' : /No space/.test(stderr) ? 'ENOSPC' : /Read-only/.test(stderr) ? 'EROFS' : 'EIO';
    throw Object.assign(new Error(`mknod: ${stderr.trim()}`), { code });
  }
}

/**
 * chmod that never follows a symlink, through an O_PATH descriptor's /proc link (what
 * glibc's lchmod does; a symlink answers EOPNOTSUPP). Linux only, like its callers (the
 * openat walk uses fchmodat with AT_SYMLINK_NOFOLLOW).
 */
export async function chmodNoFollow(path: string | Buffer, mode: number): Promise<void> {
  const fh = await fsp.open(path, O_PATH | C.O_NOFOLLOW);
  try {
    await fsp.chmod(`/proc/self/fd/${fh.fd}`, mode);
  } finally {
    await fh.close();
  }
}

/** chmodNoFollow, inline (Linux only: callers reach it only where /proc/self/fd exists). */
export function chmodNoFollowSync(path: string | Buffer, mode: number): void {
  const fd = openSync(path, O_PATH | C.O_NOFOLLOW);
  try {
    chmodSync(`/proc/self/fd/${fd}`, mode);
  } finally {
    closeSync(fd);
  }
}
