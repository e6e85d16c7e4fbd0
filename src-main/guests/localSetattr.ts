import { closeSync, constants as C, ftruncateSync, lchownSync, lstatSync, lutimesSync, openSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { constants } from 'node:os';
import { FsError } from '../vfs/FsError.ts';
import type { SetAttr } from '../vfs/types.ts';
import { chmodNoFollow, chmodNoFollowSync } from './localSpecial.ts';
import { callOrThrow, errnoError, fchmodatNoFollow, type Ops, parseStat, PLATFORM, type RawStat, statSize } from './localLibc.ts';
import { hasUtimensat, setTimesSync, timespecs } from './localTimes.ts';

// SETATTR of the local guest on one node, never following a symlink and never opening a
// fifo or a device (opening one can block or act on hardware). Owner and times change by
// path with the no-follow calls (lchown, lutimes); the mode through localSpecial's
// chmodNoFollow; the size through a write descriptor, and only for regular files. Order
// matters: chown clears set-id bits, so the mode comes after it; truncate moves mtime, so
// times come last. Where libc's *at calls load (localLibc.ts), the inline form acts on the
// name relative to its folder's descriptor instead (setattrInSync): the same calls, without
// a walk through /proc for each.

/** Applies `attr` to the node at `p` (an absolute host path whose folder is proven inside). */
export async function setattrAt(p: string | Buffer, guestPath: string, attr: SetAttr): Promise<void> {
  const st = await fsp.lstat(p);
  if (attr.size !== undefined) {
    if (st.isDirectory()) throw new FsError('IsDir', `${guestPath}: a folder has no size to set`);
    if (!st.isFile()) throw new FsError('InvalidItem', `${guestPath}: only regular files can be truncated`);
  }
  if (attr.uid !== undefined || attr.gid !== undefined) await fsp.lchown(p, attr.uid ?? -1, attr.gid ?? -1);
  // Linux symlinks have no mode of their own: a mode for one is ignored, as chmod -h does.
  if (attr.mode !== undefined && !st.isSymbolicLink()) await chmodNoFollow(p, attr.mode & 0o7777);
  if (attr.size !== undefined) {
    const fh = await fsp.open(p, C.O_WRONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
    try {
      await fh.truncate(attr.size);
    } finally {
      await fh.close();
    }
  }
  if (attr.atime !== undefined || attr.mtime !== undefined) {
    // One time given: the other stays as it is (utimensat's UTIME_OMIT).
    const now = attr.atime === undefined || attr.mtime === undefined ? await fsp.lstat(p) : st;
    await fsp.lutimes(p, (attr.atime ?? now.atimeMs) / 1000, (attr.mtime ?? now.mtimeMs) / 1000);
  }
}

/** setattrAt, inline (see localInline.ts). */
export function setattrAtSync(p: string | Buffer, guestPath: string, attr: SetAttr): void {
  const st = lstatSync(p);
  if (attr.size !== undefined) {
    if (st.isDirectory()) throw new FsError('IsDir', `${guestPath}: a folder has no size to set`);
    if (!st.isFile()) throw new FsError('InvalidItem', `${guestPath}: only regular files can be truncated`);
  }
  if (attr.uid !== undefined || attr.gid !== undefined) lchownSync(p, attr.uid ?? -1, attr.gid ?? -1);
  if (attr.mode !== undefined && !st.isSymbolicLink()) chmodNoFollowSync(p, attr.mode & 0o7777);
  if (attr.size !== undefined) {
    const fd = openSync(p, C.O_WRONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
    try {
      ftruncateSync(fd, attr.size);
    } finally {
      closeSync(fd);
    }
  }
  if (attr.atime !== undefined || attr.mtime !== undefined) {
    // Exact: nanoseconds, the omitted time untouched, "now" as the kernel's clock.
    if (hasUtimensat()) return setTimesSync(p, attr);
    const now = attr.atime === undefined || attr.mtime === undefined ? lstatSync(p) : st;
    lutimesSync(p, (attr.atime ?? now.atimeMs) / 1000, (attr.mtime ?? now.mtimeMs) / 1000);
  }
}

/**
 * setattrAtSync of `name` in the folder open as `dirFd` (an O_PATH descriptor will do), by
 * libc's *at calls: a mode alone is one fchmodat2. Through /proc/self/fd a SETATTR of a mode
 * by path was five calls (lstat, O_PATH open, chmod of its link, close, and the reply's
 * lstat) and cost 86 µs through the NFS host on one CPU here, against nfs-ganesha's 51 µs.
 */
export function setattrInSync(ops: Ops, dirFd: number, name: string, guestPath: string, attr: SetAttr): void {
  const nofollow = PLATFORM!.AT_SYMLINK_NOFOLLOW;
  const lstat = (): RawStat => parseStat(callOrThrow(ops, 'fstatat', [dirFd, name, null, nofollow], statSize())[2]!);
  if (attr.size !== undefined) {
    const st = lstat();
    if (st.type === 'dir') throw new FsError('IsDir', `${guestPath}: a folder has no size to set`);
    if (st.type !== 'file') throw new FsError('InvalidItem', `${guestPath}: only regular files can be truncated`);
  }
  if (attr.uid !== undefined || attr.gid !== undefined) callOrThrow(ops, 'fchownat', [dirFd, name, attr.uid ?? 0xffffffff, attr.gid ?? 0xffffffff, nofollow]);
  if (attr.mode !== undefined) {
    const r = fchmodatNoFollow(ops, dirFd, name, attr.mode & 0o7777);
    // A symlink answers EOPNOTSUPP: its mode is not its own (Linux), ignored as chmod -h does.
    // Asked only then, so a chmod is one call.
    if (r[0] < 0 && !(r[1] === constants.errno.EOPNOTSUPP && lstat().type === 'symlink')) throw errnoError(r[1], 'fchmodat');
  }
  if (attr.size !== undefined) {
    const [fd] = callOrThrow(ops, 'openat', [dirFd, name, C.O_WRONLY | C.O_NOFOLLOW | C.O_NONBLOCK | PLATFORM!.O_CLOEXEC, 'uint32_t', 0]);
    try {
      ftruncateSync(fd, attr.size);
    } finally {
      closeSync(fd);
    }
  }
  if (attr.atime !== undefined || attr.mtime !== undefined) callOrThrow(ops, 'utimensat', [dirFd, name, timespecs(attr), nofollow]);
}
