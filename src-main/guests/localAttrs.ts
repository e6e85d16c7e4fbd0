import { type BigIntStats, type Stats } from 'node:fs';
import type { Attr, NodeType } from '../vfs/types.ts';
import { typeOfMode } from '../vfs/modeType.ts';
import { F } from './localStatBatch.ts';

// The local guest's attributes from what the system reports: a Stats of a listing (times
// in ms), a BigIntStats of one node (exact nanoseconds), a row of a batched lstat
// (localStatBatch.ts). The owner shown may be overridden (the spec's uid/gid).

/** Owner shown instead of the file's (the local guest spec's uid/gid). */
export interface OwnerShown {
  uid: number | undefined;
  gid: number | undefined;
}

/** The node type of a stat. */
export function nodeType(st: Stats | BigIntStats): NodeType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'char';
  return 'block';
}

/** Attributes of a listing's entry (times in ms). */
export function attrOf(st: Stats, own: OwnerShown): Attr {
  return {
    type: nodeType(st),
    mode: st.mode & 0o7777,
    size: st.isFile() || st.isSymbolicLink() || st.isDirectory() ? st.size : 0,
    nlink: st.nlink,
    uid: own.uid ?? st.uid,
    gid: own.gid ?? st.gid,
    ino: st.ino,
    mtime: st.mtimeMs,
    atime: st.atimeMs,
    ctime: st.ctimeMs,
    ...(st.isCharacterDevice() || st.isBlockDevice() ? { rdev: st.rdev } : {}),
  };
}

/** Attributes with exact nanosecond times (a stat of one node; listings use attrOf). */
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

/** Attributes of a row of a batched lstat (localStatBatch.ts). */
export function attrOfRow(r: Float64Array, o: number, own: OwnerShown): Attr {
  const mode = r[o + F.mode]!;
  const type = typeOfMode(mode);
  const a: Attr = {
    type,
    mode: mode & 0o7777,
    size: type === 'file' || type === 'symlink' || type === 'dir' ? r[o + F.size]! : 0,
    nlink: r[o + F.nlink]!,
    uid: own.uid ?? r[o + F.uid]!,
    gid: own.gid ?? r[o + F.gid]!,
    ino: r[o + F.ino]!,
    mtime: r[o + F.mtimeMs]!,
    atime: r[o + F.atimeMs]!,
    ctime: r[o + F.ctimeMs]!,
  };
  if (type === 'char' || type === 'block') a.rdev = r[o + F.rdev]!;
  return a;
}
