import { execFile } from 'node:child_process';
import { constants as C } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { promisify } from 'node:util';
import { FsError } from '../vfs/FsError.ts';
import type { SpecialType } from '../vfs/types.ts';
import { HAS_PROC_FD } from './localDirs.ts';

// Special nodes and mode changes of the local guest that Node's fs cannot make safely.
// Node has no mknod: fifos and devices are made by coreutils' mknod in a child process,
// which gets the parent folder's descriptor as its fd 3 and creates "/proc/self/fd/3/name",
// so the containment proof of the folder holds there too. mknod is rare (mkfifo, cp -a of
// /dev), so a process per call is fine. Sockets are not made: a socket file only means
// something to the process that binds it, and binding one has no mknod equivalent here.

const run = promisify(execFile);
/** Linux's O_PATH (see localDirs.ts). */
const O_PATH = 0o10000000;

/** Linux dev_t as FUSE and NFS pass it (new_decode_dev): major and minor numbers. */
export function splitDev(rdev: number): { major: number; minor: number } {
  return { major: (rdev & 0xfff00) >>> 8, minor: (rdev & 0xff) | ((rdev >>> 12) & 0xfff00) };
}

/** Creates a fifo or device `name` inside the folder open as `dirFd` (or at `dirPath` without /proc). */
export async function makeSpecial(dir: { fd?: number; path: string }, name: string, type: SpecialType, mode: number, rdev: number): Promise<void> {
  const kind = type === 'fifo' ? ['p'] : type === 'char' || type === 'block' ? [type === 'char' ? 'c' : 'b', String(splitDev(rdev).major), String(splitDev(rdev).minor)] : undefined;
  if (!kind) throw new FsError('InvalidOperation', `${name}: socket files cannot be made here (bind one instead)`);
  const viaFd = HAS_PROC_FD && dir.fd !== undefined;
  const target = viaFd ? `/proc/self/fd/3/${name}` : `${dir.path}/${name}`;
  try {
    await run('mknod', ['-m', (mode & 0o777).toString(8), '--', target, ...kind], {
      timeout: 10_000,
      ...(viaFd ? { stdio: ['ignore', 'pipe', 'pipe', dir.fd] } : {}),
    } as Parameters<typeof execFile>[2]);
  } catch (err) {
    const text = String((err as { stderr?: unknown }).stderr ?? (err as Error).message);
    const code = /File exists/.test(text) ? 'EEXIST' : /Operation not permitted/.test(text) ? 'EPERM' : /Permission denied/.test(text) ? 'EACCES' : /No space/.test(text) ? 'ENOSPC' : /Read-only/.test(text) ? 'EROFS' : 'EIO';
    throw Object.assign(new Error(`mknod: ${text.trim()}`), { code });
  }
}

/**
 * chmod that never follows a symlink: on Linux through an O_PATH descriptor's /proc link
 * (what glibc's lchmod does; a symlink answers EOPNOTSUPP), elsewhere after an lstat.
 */
export async function chmodNoFollow(path: string, mode: number): Promise<void> {
  if (!HAS_PROC_FD) {
    if ((await fsp.lstat(path)).isSymbolicLink()) throw Object.assign(new Error('symlink'), { code: 'EOPNOTSUPP' });
    await fsp.chmod(path, mode);
    return;
  }
  const fh = await fsp.open(path, O_PATH | C.O_NOFOLLOW);
  try {
    await fsp.chmod(`/proc/self/fd/${fh.fd}`, mode);
  } finally {
    await fh.close();
  }
}
