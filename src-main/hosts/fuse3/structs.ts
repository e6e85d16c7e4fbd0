import type { Attr, NodeType } from '../../vfs/types.ts';
import { TYPE_BITS } from '../../vfs/modeType.ts';
import { secNsecOf } from '../../vfs/times.ts';
import { STAT } from './libfuse3.ts';

// The C structs the libfuse 3 host hands libfuse, written into Buffers field by field:
// struct stat (alone for fuse_reply_attr, inside struct fuse_entry_param for lookups) and
// struct statvfs. One Buffer of each is reused per call: libfuse copies them before the
// reply function returns.

const S = STAT ?? { size: 144, ino: 8, nlink: 16, nlinkBytes: 8, mode: 24, uid: 28, gid: 32, rdev: 40, fsize: 48, blksize: 56, blocks: 64, atim: 72, mtim: 88, ctim: 104 };

/** sizeof(struct stat). */
export const STAT_SIZE = S.size;
/** sizeof(struct fuse_entry_param): ino, generation, stat, attr_timeout, entry_timeout. */
export const ENTRY_SIZE = 16 + S.size + 16;

/** Type bits of a node type (S_IFREG…). */
export function typeBits(t: NodeType): number {
  return TYPE_BITS[t];
}

/** Owner shown instead of the guest's (the mount's --uid/--gid). */
export interface OwnerOverride {
  uid?: number;
  gid?: number;
}

/** A number below 2^53 as a little-endian 64-bit field (two's complement when negative). */
export function u64(b: Buffer, off: number, n: number): void {
  // Numbers here stay below 2^53; the high half is whatever lies above 32 bits.
  b.writeUInt32LE(n >>> 0, off);
  b.writeUInt32LE(Math.floor(n / 0x1_0000_0000) >>> 0, off + 4);
}

/** A time in ms (maybe fractional) or exact ns as struct timespec. */
function timespec(b: Buffer, off: number, ms: number, ns: bigint | undefined): void {
  const [s, nsec] = secNsecOf(ms, ns);
  u64(b, off, s);
  u64(b, off + 8, nsec);
}

/** Writes struct stat for `a` at `off` of `b` (which must hold STAT_SIZE bytes from there, zeroed padding not needed). */
export function writeStat(b: Buffer, off: number, a: Attr, own: OwnerOverride): void {
  b.fill(0, off, off + S.size);
  u64(b, off + S.ino, a.ino);
  if (S.nlinkBytes === 8) u64(b, off + S.nlink, a.nlink || 1);
  else b.writeUInt32LE(a.nlink || 1, off + S.nlink);
  b.writeUInt32LE((TYPE_BITS[a.type] | (a.mode & 0o7777)) >>> 0, off + S.mode);
  b.writeUInt32LE((own.uid ?? a.uid) >>> 0, off + S.uid);
  b.writeUInt32LE((own.gid ?? a.gid) >>> 0, off + S.gid);
  u64(b, off + S.rdev, a.rdev ?? 0);
  u64(b, off + S.fsize, a.size);
  b.writeUInt32LE(4096, off + S.blksize);
  u64(b, off + S.blocks, Math.ceil(a.size / 512));
  timespec(b, off + S.atim, a.atime, a.atimeNs);
  timespec(b, off + S.mtim, a.mtime, a.mtimeNs);
  timespec(b, off + S.ctim, a.ctime, a.ctimeNs);
}

/** Writes struct fuse_entry_param: the kernel's node id, its attributes and how long both may be cached. */
export function writeEntry(b: Buffer, nodeId: number, a: Attr | undefined, own: OwnerOverride, attrTimeoutS: number, entryTimeoutS: number): void {
  u64(b, 0, nodeId);
  u64(b, 8, 0);
  if (a) writeStat(b, 16, a, own);
  else b.fill(0, 16, 16 + S.size);
  b.writeDoubleLE(attrTimeoutS, 16 + S.size);
  b.writeDoubleLE(entryTimeoutS, 24 + S.size);
}

/** One struct stat's fields as setattr hands them over (times in ns). */
export interface StatIn {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  atimeNs: bigint;
  mtimeNs: bigint;
}

/** Reads the fields of a struct stat setattr may change. */
export function readStat(view: DataView): StatIn {
  const ts = (off: number): bigint => view.getBigInt64(off, true) * 1_000_000_000n + view.getBigInt64(off + 8, true);
  return {
    mode: view.getUint32(S.mode, true),
    uid: view.getUint32(S.uid, true),
    gid: view.getUint32(S.gid, true),
    size: Number(view.getBigInt64(S.fsize, true)),
    atimeNs: ts(S.atim),
    mtimeNs: ts(S.mtim),
  };
}

/** struct statvfs (LP64 glibc: unsigned longs and 64-bit counts). */
export const STATVFS_SIZE = 112;

/** Writes struct statvfs. */
export function writeStatvfs(b: Buffer, s: { blockSize: number; blocks: number; blocksFree: number; blocksAvail: number; files: number; filesFree: number; nameMax: number }): void {
  b.fill(0);
  const bs = s.blockSize || 4096;
  u64(b, 0, bs);
  u64(b, 8, bs);
  u64(b, 16, s.blocks);
  u64(b, 24, s.blocksFree);
  u64(b, 32, s.blocksAvail);
  u64(b, 40, s.files);
  u64(b, 48, s.filesFree);
  u64(b, 56, s.filesFree);
  u64(b, 80, s.nameMax);
}
