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
  return attrOfRaw(
    {
      type: nodeType(st),
      mode: Number(st.mode),
      nlink: Number(st.nlink),
      uid: Number(st.uid),
      gid: Number(st.gid),
      rdev: Number(st.rdev),
      size: Number(st.size),
      blocks: Number(st.blocks),
      ino: Number(st.ino),
      atimeNs: st.atimeNs,
      mtimeNs: st.mtimeNs,
      ctimeNs: st.ctimeNs,
    },
    own,
  );
}

/** Attributes of a row of a batched lstat (localStatBatch.ts), with exact nanosecond times. */
export function attrOfRow(r: Float64Array, o: number, own: OwnerShown): Attr {
  const mode = r[o + F.mode]!;
  return attrOfRaw(
    {
      type: typeOfMode(mode),
      mode,
      nlink: r[o + F.nlink]!,
      uid: r[o + F.uid]!,
      gid: r[o + F.gid]!,
      rdev: r[o + F.rdev]!,
      size: r[o + F.size]!,
      blocks: r[o + F.blocks]!,
      ino: r[o + F.ino]!,
      atimeNs: joinNs(r[o + F.atimeS]!, r[o + F.atimeNsec]!),
      mtimeNs: joinNs(r[o + F.mtimeS]!, r[o + F.mtimeNsec]!),
      ctimeNs: joinNs(r[o + F.ctimeS]!, r[o + F.ctimeNsec]!),
    },
    own,
  );
}

/**
 * Attributes of what a stat reported (a struct stat through libc: localLibc.ts parseStat;
 * the two forms above), with exact nanosecond times: the one place an Attr is made from a
 * stat, so a node listed and looked up gives the same numbers whichever way it was read.
 */
export function attrOfRaw(s: Omit<RawStat, 'dev'>, own: OwnerShown): Attr {
  const sized = s.type === 'file' || s.type === 'symlink' || s.type === 'dir';
  return {
    type: s.type,
    mode: s.mode & 0o7777,
    size: sized ? s.size : 0,
    blocks: s.blocks,
    nlink: s.nlink,
    uid: own.uid ?? s.uid,
    gid: own.gid ?? s.gid,
    ino: s.ino,
    // ms from the nanoseconds.
    mtime: Number(s.mtimeNs) / 1e6,
    atime: Number(s.atimeNs) / 1e6,
    ctime: Number(s.ctimeNs) / 1e6,
    atimeNs: s.atimeNs,
    mtimeNs: s.mtimeNs,
    ctimeNs: s.ctimeNs,
    ...(s.type === 'char' || s.type === 'block' ? { rdev: s.rdev } : {}),
  };
}
