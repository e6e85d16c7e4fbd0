import type { Attr, StatFs } from '../../vfs/types.ts';
import { blocksOf, TYPE_BITS } from '../../vfs/modeType.ts';
import { secNsecOf } from '../../vfs/times.ts';

// The kernel's FUSE protocol as <linux/fuse.h> lays it out (a stable ABI: fields are only
// ever added at the end, behind a minor version or an INIT flag): the request header and
// the bodies the host reads, and the replies it writes, field by field into Buffers. The
// session (FuseSession.ts) reads requests from /dev/fuse and writes these replies back
// itself; libfuse only mounts.

/** Opcodes of enum fuse_opcode the host serves or must know. */
export const OP = {
  LOOKUP: 1, FORGET: 2, GETATTR: 3, SETATTR: 4, READLINK: 5, SYMLINK: 6, MKNOD: 8, MKDIR: 9, UNLINK: 10, RMDIR: 11, RENAME: 12,
  LINK: 13, OPEN: 14, READ: 15, WRITE: 16, STATFS: 17, RELEASE: 18, FSYNC: 20, SETXATTR: 21, GETXATTR: 22, LISTXATTR: 23,
  REMOVEXATTR: 24, FLUSH: 25, INIT: 26, OPENDIR: 27, READDIR: 28, RELEASEDIR: 29, FSYNCDIR: 30, ACCESS: 34, CREATE: 35,
  INTERRUPT: 36, DESTROY: 38, BATCH_FORGET: 42, FALLOCATE: 43, READDIRPLUS: 44, RENAME2: 45, LSEEK: 46,
} as const;

/** INIT flags (the first 32 bits; the next 32 travel in flags2). */
export const INIT = {
  ASYNC_READ: 1 << 0,
  ATOMIC_O_TRUNC: 1 << 3,
  BIG_WRITES: 1 << 5,
  AUTO_INVAL_DATA: 1 << 12,
  DO_READDIRPLUS: 1 << 13,
  READDIRPLUS_AUTO: 1 << 14,
  ASYNC_DIO: 1 << 15,
  PARALLEL_DIROPS: 1 << 18,
  MAX_PAGES: 1 << 22,
  NO_OPENDIR_SUPPORT: 1 << 24,
  INIT_EXT: 1 << 30,
} as const;
/** flags2 bits (FUSE_PASSTHROUGH is bit 37 of the 64-bit flags). */
export const INIT2 = { PASSTHROUGH: 1 << 5 } as const;

/** FATTR_* of a SETATTR's `valid`. */
export const FATTR = { MODE: 1 << 0, UID: 1 << 1, GID: 1 << 2, SIZE: 1 << 3, ATIME: 1 << 4, MTIME: 1 << 5, FH: 1 << 6, ATIME_NOW: 1 << 7, MTIME_NOW: 1 << 8 } as const;
/** FOPEN_* of an OPEN or CREATE reply. */
export const FOPEN = { DIRECT_IO: 1 << 0, KEEP_CACHE: 1 << 1, PASSTHROUGH: 1 << 7 } as const;
/** FUSE_GETATTR_FH: a GETATTR names an open file. */
export const GETATTR_FH = 1;
/** FUSE_NOTIFY_INVAL_INODE. */
export const NOTIFY_INVAL_INODE = 2;

/** The protocol version the host speaks: 7.x, x at most this (the kernel's when lower). */
export const MAJOR = 7;
export const MAX_MINOR = 40;

/** sizeof(struct fuse_in_header), sizeof(struct fuse_out_header). */
export const IN_HEADER = 40;
export const OUT_HEADER = 16;
/** sizeof(struct fuse_attr), fuse_entry_out, fuse_attr_out, fuse_open_out, fuse_init_out, fuse_statfs_out. */
export const ATTR_SIZE = 88;
export const ENTRY_OUT = 40 + ATTR_SIZE;
export const ATTR_OUT = 16 + ATTR_SIZE;
export const OPEN_OUT = 16;
export const INIT_OUT = 64;
export const STATFS_OUT = 80;
/** Bytes before the data of a WRITE (struct fuse_write_in). */
export const WRITE_IN = 40;

/** Owner shown instead of the guest's (the mount's --uid/--gid). */
export interface OwnerOverride {
  uid?: number;
  gid?: number;
}

/** An unsigned 64-bit field as a number (values here stay below 2^53). */
export function readU64(b: Buffer, off: number): number {
  return b.readUInt32LE(off) + b.readUInt32LE(off + 4) * 0x1_0000_0000;
}

/** A number below 2^53 as a little-endian 64-bit field (two's complement when negative). */
export function u64(b: Buffer, off: number, n: number): void {
  b.writeUInt32LE(n >>> 0, off);
  b.writeUInt32LE(Math.floor(n / 0x1_0000_0000) >>> 0, off + 4);
}

/** Writes struct fuse_out_header at the start of `b`: the reply's length, its error (a negative errno, or a notification's code) and the request it answers (0: a notification). */
export function writeOutHeader(b: Buffer, len: number, error: number, unique: number): void {
  b.writeUInt32LE(len, 0);
  b.writeInt32LE(error, 4);
  u64(b, 8, unique);
}

/** A timeout in seconds as the kernel's (seconds, nanoseconds). */
export function validOf(s: number): [number, number] {
  if (!(s > 0)) return [0, 0];
  const whole = Math.floor(s);
  return [whole, Math.min(999_999_999, Math.round((s - whole) * 1e9))];
}

/** Writes struct fuse_attr (88 bytes) at `off`. */
export function writeFuseAttr(b: Buffer, off: number, a: Attr, own: OwnerOverride): void {
  u64(b, off, a.ino);
  u64(b, off + 8, a.size);
  u64(b, off + 16, blocksOf(a));
  const [as, an] = secNsecOf(a.atime, a.atimeNs);
  const [ms, mn] = secNsecOf(a.mtime, a.mtimeNs);
  const [cs, cn] = secNsecOf(a.ctime, a.ctimeNs);
  u64(b, off + 24, as);
  u64(b, off + 32, ms);
  u64(b, off + 40, cs);
  b.writeUInt32LE(an, off + 48);
  b.writeUInt32LE(mn, off + 52);
  b.writeUInt32LE(cn, off + 56);
  b.writeUInt32LE((TYPE_BITS[a.type] | (a.mode & 0o7777)) >>> 0, off + 60);
  // As the guest says: 0 for a file unlinked while open (its fstat through the mount), as on a disk.
  b.writeUInt32LE(a.nlink >>> 0, off + 64);
  b.writeUInt32LE((own.uid ?? a.uid) >>> 0, off + 68);
  b.writeUInt32LE((own.gid ?? a.gid) >>> 0, off + 72);
  b.writeUInt32LE((a.rdev ?? 0) >>> 0, off + 76);
  b.writeUInt32LE(4096, off + 80);
  b.writeUInt32LE(0, off + 84);
}

/** How long the kernel may keep a node's name and attributes, seconds. */
export interface Validity {
  attrTimeoutS: number;
  entryTimeoutS: number;
}

/** Writes struct fuse_entry_out (128 bytes) at `off`: node id 0 with no attributes is a negative entry. */
export function writeEntryOut(b: Buffer, off: number, nodeId: number, a: Attr | undefined, own: OwnerOverride, v: Validity): void {
  const [ev, evn] = validOf(v.entryTimeoutS);
  const [av, avn] = validOf(v.attrTimeoutS);
  u64(b, off, nodeId);
  u64(b, off + 8, 0);
  u64(b, off + 16, ev);
  u64(b, off + 24, av);
  b.writeUInt32LE(evn, off + 32);
  b.writeUInt32LE(avn, off + 36);
  if (a) writeFuseAttr(b, off + 40, a, own);
  else b.fill(0, off + 40, off + ENTRY_OUT);
}

/** Writes struct fuse_attr_out (104 bytes) at `off`. */
export function writeAttrOut(b: Buffer, off: number, a: Attr, own: OwnerOverride, attrTimeoutS: number): void {
  const [av, avn] = validOf(attrTimeoutS);
  u64(b, off, av);
  b.writeUInt32LE(avn, off + 8);
  b.writeUInt32LE(0, off + 12);
  writeFuseAttr(b, off + 16, a, own);
}

/** What an OPEN, OPENDIR or CREATE answers besides the handle. */
export interface OpenReply {
  fh: number;
  /** FOPEN_* bits. */
  flags?: number;
  /** The id FUSE_DEV_IOC_BACKING_OPEN gave (with FOPEN.PASSTHROUGH). */
  backingId?: number;
}

/** Writes struct fuse_open_out (16 bytes) at `off`. */
export function writeOpenOut(b: Buffer, off: number, o: OpenReply): void {
  u64(b, off, o.fh);
  b.writeUInt32LE((o.flags ?? 0) >>> 0, off + 8);
  b.writeInt32LE(o.backingId ?? 0, off + 12);
}

/** Writes struct fuse_statfs_out (struct fuse_kstatfs, 80 bytes) at `off`. */
export function writeStatfsOut(b: Buffer, off: number, s: StatFs): void {
  b.fill(0, off, off + STATFS_OUT);
  const bs = s.blockSize || 4096;
  u64(b, off, s.blocks);
  u64(b, off + 8, s.blocksFree);
  u64(b, off + 16, s.blocksAvail);
  u64(b, off + 24, s.files);
  u64(b, off + 32, s.filesFree);
  b.writeUInt32LE(bs >>> 0, off + 40);
  b.writeUInt32LE(s.nameMax >>> 0, off + 44);
  b.writeUInt32LE(bs >>> 0, off + 48);
}

/** struct fuse_init_in, as far as the host reads it. */
export interface InitIn {
  major: number;
  minor: number;
  maxReadahead: number;
  flags: number;
  flags2: number;
}

/** Reads struct fuse_init_in from a request's body at `off` (flags2 only when INIT_EXT is set). */
export function readInitIn(b: Buffer, off: number, bodyLen: number): InitIn {
  const flags = bodyLen >= 16 ? b.readUInt32LE(off + 12) : 0;
  return {
    major: b.readUInt32LE(off),
    minor: b.readUInt32LE(off + 4),
    maxReadahead: bodyLen >= 12 ? b.readUInt32LE(off + 8) : 0,
    flags,
    flags2: (flags & INIT.INIT_EXT) !== 0 && bodyLen >= 20 ? b.readUInt32LE(off + 16) : 0,
  };
}

/** What the host answers an INIT with. */
export interface InitOut {
  minor: number;
  maxReadahead: number;
  flags: number;
  flags2: number;
  maxWrite: number;
  maxPages: number;
  /** Stacking depth of backing files (passthrough only, else 0). */
  maxStackDepth: number;
}

/** Writes struct fuse_init_out (64 bytes) at `off`. */
export function writeInitOut(b: Buffer, off: number, o: InitOut): void {
  b.fill(0, off, off + INIT_OUT);
  b.writeUInt32LE(MAJOR, off);
  b.writeUInt32LE(o.minor, off + 4);
  b.writeUInt32LE(o.maxReadahead >>> 0, off + 8);
  b.writeUInt32LE(o.flags >>> 0, off + 12);
  // max_background and congestion_threshold 0: the kernel's defaults.
  b.writeUInt32LE(o.maxWrite, off + 20);
  // time_gran 1: times are exact to the nanosecond.
  b.writeUInt32LE(1, off + 24);
  b.writeUInt16LE(o.maxPages, off + 28);
  b.writeUInt32LE(o.flags2 >>> 0, off + 32);
  b.writeUInt32LE(o.maxStackDepth, off + 36);
}

/** A SETATTR's fields (struct fuse_setattr_in), times in ns. */
export interface SetattrIn {
  /** FATTR_* bits: which fields are set. */
  valid: number;
  /** The open file it names (FATTR.FH), else 0. */
  fh: number;
  size: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  mode: number;
  uid: number;
  gid: number;
}

/** Reads struct fuse_setattr_in (88 bytes) at `off`. */
export function readSetattrIn(b: Buffer, off: number): SetattrIn {
  const valid = b.readUInt32LE(off);
  const ts = (sec: number, nsec: number): bigint => b.readBigInt64LE(off + sec) * 1_000_000_000n + BigInt(b.readUInt32LE(off + nsec));
  return {
    valid,
    fh: valid & FATTR.FH ? readU64(b, off + 8) : 0,
    size: readU64(b, off + 16),
    atimeNs: valid & FATTR.ATIME ? ts(32, 56) : 0n,
    mtimeNs: valid & FATTR.MTIME ? ts(40, 60) : 0n,
    mode: b.readUInt32LE(off + 68),
    uid: b.readUInt32LE(off + 76),
    gid: b.readUInt32LE(off + 80),
  };
}
