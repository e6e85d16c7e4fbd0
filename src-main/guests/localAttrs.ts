import type { BigIntStats } from 'node:fs';
import type { Attr, NodeType } from '../vfs/types.ts';
import { typeOfMode } from '../vfs/modeType.ts';
import { F } from './localStatBatch.ts';
import { joinNs } from '../vfs/times.ts';
import type { RawStat } from './localLibc.ts';

// The local guest's attributes from what the system reports: a BigIntStats of one node, a
// row of a batched lstat (localStatBatch.ts) or a struct stat read through libc
// (localLibc.ts), all with exact nanosecond times, so that a node listed and the same node
// looked up give the same times (an NFS or FUSE client that sees a time move drops what it
// cached). The owner shown may be overridden (the spec's uid/gid).

/** Owner shown instead of the file's (the local guest spec's uid/gid). */
export interface OwnerShown {
  uid: number | undefined;
  gid: number | undefined;
}

/** The node type of a stat. */
export function nodeType(st: BigIntStats): NodeType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'char';
  return 'block';
}

/** Attributes with exact nanosecond times. */
export function attrOfNs(st: BigIntStats, own: OwnerShown): Attr {
  const file = st.isFile() || st.isSymbolicLink() || st.isDirectory();
  return {
    type: nodeType(st),
    mode: Number(st.mode) & 0o7777,
    size: file ? Number(st.size) : 0,
    nlink: Number(st.nlink),
    uid: own.uid ?? Number(st.uid),
    gid: own.gid ?? Number(st.gid),
    ino: Number(st.ino),
    mtime: Number(st.mtimeNs) / 1e6,
    atime: Number(st.atimeNs) / 1e6,
    ctime: Number(st.ctimeNs) / 1e6,
    atimeNs: st.atimeNs,
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
    ...(st.isCharacterDevice() || st.isBlockDevice() ? { rdev: Number(st.rdev) } : {}),
  };
}

/** Attributes of a row of a batched lstat (localStatBatch.ts), with exact nanosecond times. */
export function attrOfRow(r: Float64Array, o: number, own: OwnerShown): Attr {
  const mode = r[o + F.mode]!;
  const type = typeOfMode(mode);
  const mtimeNs = joinNs(r[o + F.mtimeS]!, r[o + F.mtimeNsec]!);
  const atimeNs = joinNs(r[o + F.atimeS]!, r[o + F.atimeNsec]!);
  const ctimeNs = joinNs(r[o + F.ctimeS]!, r[o + F.ctimeNsec]!);
  const a: Attr = {
    type,
    mode: mode & 0o7777,
    size: type === 'file' || type === 'symlink' || type === 'dir' ? r[o + F.size]! : 0,
    nlink: r[o + F.nlink]!,
    uid: own.uid ?? r[o + F.uid]!,
    gid: own.gid ?? r[o + F.gid]!,
    ino: r[o + F.ino]!,
    // ms from the nanoseconds, as attrOfNs makes them: the same node gives the same numbers either way.
    mtime: Number(mtimeNs) / 1e6,
    atime: Number(atimeNs) / 1e6,
    ctime: Number(ctimeNs) / 1e6,
    atimeNs,
    mtimeNs,
    ctimeNs,
  };
  if (type === 'char' || type === 'block') a.rdev = r[o + F.rdev]!;
  return a;
}

/** Attributes of a struct stat read through libc (fstatat: localLibc.ts parseStat), with exact nanosecond times. */
export function attrOfRaw(s: RawStat, own: OwnerShown): Attr {
  const sized = s.type === 'file' || s.type === 'symlink' || s.type === 'dir';
  return {
    type: s.type,
    mode: s.mode & 0o7777,
    size: sized ? s.size : 0,
    nlink: s.nlink,
    uid: own.uid ?? s.uid,
    gid: own.gid ?? s.gid,
    ino: s.ino,
    mtime: Number(s.mtimeNs) / 1e6,
    atime: Number(s.atimeNs) / 1e6,
    ctime: Number(s.ctimeNs) / 1e6,
    atimeNs: s.atimeNs,
    mtimeNs: s.mtimeNs,
    ctimeNs: s.ctimeNs,
    ...(s.type === 'char' || s.type === 'block' ? { rdev: s.rdev } : {}),
  };
}
