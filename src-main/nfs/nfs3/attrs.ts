import type { Attr, NodeType, SetAttr } from '../../vfs/types.ts';
import { XdrError } from '../xdr/XdrError.ts';
import type { XdrReader } from '../xdr/XdrReader.ts';
import type { XdrWriter } from '../xdr/XdrWriter.ts';
import { Ftype3, TimeHow } from './constants.ts';
import { joinNs, secNsecOf } from '../../vfs/times.ts';

// Attribute structures of RFC 1813 §2.6 shared by our server (encode) and client (decode).

const FTYPE: Record<NodeType, number> = {
  file: Ftype3.REG,
  dir: Ftype3.DIR,
  symlink: Ftype3.LNK,
  fifo: Ftype3.FIFO,
  socket: Ftype3.SOCK,
  char: Ftype3.CHR,
  block: Ftype3.BLK,
};

const TYPE_OF_FTYPE: Partial<Record<number, NodeType>> = Object.fromEntries(Object.entries(FTYPE).map(([t, f]) => [f, t as NodeType]));

/**
 * Writes nfstime3: from the exact nanoseconds when given (a double in ms is only ~0.25 µs
 * exact at today's dates, and a client that sees a time move drops what it cached), else
 * from milliseconds since the epoch, rounded to whole microseconds as everywhere in Berth
 * (vfs/times.ts). nfstime3's seconds are unsigned: a time before the epoch is written as
 * the epoch, one past 2106 as its last second.
 */
export function writeTime(w: XdrWriter, ms: number, ns?: bigint): void {
  const [sec, nsec] = ns !== undefined || (Number.isFinite(ms) && ms > 0) ? secNsecOf(ms, ns) : [0, 0];
  if (sec < 0) w.uint32(0).uint32(0);
  else w.uint32(Math.min(sec, 0xffff_ffff)).uint32(nsec);
}

/** Reads nfstime3 as milliseconds since the epoch. */
export function readTime(r: XdrReader): number {
  const sec = r.uint32();
  const nsec = r.uint32();
  // Fractions of a millisecond kept (Attr times may carry them).
  return sec * 1000 + nsec / 1_000_000;
}

/** Reads nfstime3 as [milliseconds since the epoch, the exact nanoseconds]. */
function readTimeNs(r: XdrReader): [number, bigint] {
  const sec = r.uint32();
  const nsec = r.uint32();
  return [sec * 1000 + nsec / 1_000_000, joinNs(sec, nsec)];
}

/** The last fsid written and its halves: a server has one fsid, and a BigInt write per fattr3 cost more than the rest of it. */
let fsidSeen: bigint | undefined;
let fsidHi = 0;
let fsidLo = 0;

/** Writes fattr3 (§2.6) for a guest attribute. */
export function writeFattr3(w: XdrWriter, a: Attr, fsid: bigint): void {
  if (fsid !== fsidSeen) {
    fsidSeen = fsid;
    fsidHi = Number(BigInt.asUintN(32, fsid >> 32n));
    fsidLo = Number(BigInt.asUintN(32, fsid));
  }
  w.uint32(FTYPE[a.type]);
  w.uint32(a.mode & 0o7777);
  w.uint32(a.nlink);
  w.uint32(a.uid);
  w.uint32(a.gid);
  w.uint64(a.size);
  // used: the guest's blocks where it counts them (a sparse file uses less than its size), else the size in 4 KiB blocks.
  w.uint64(a.blocks !== undefined ? a.blocks * 512 : Math.ceil(a.size / 4096) * 4096);
  // rdev as specdata3 (major, minor) from Linux's dev_t encoding.
  const rdev = a.rdev ?? 0;
  w.uint32((rdev & 0xfff00) >>> 8).uint32((rdev & 0xff) | ((rdev >>> 12) & 0xfff00));
  w.uint32(fsidHi).uint32(fsidLo);
  w.uint64(a.ino);
  writeTime(w, a.atime, a.atimeNs);
  writeTime(w, a.mtime, a.mtimeNs);
  writeTime(w, a.ctime, a.ctimeNs);
}

/** post_op_attr (§2.6): attributes when known. */
export function writePostOpAttr(w: XdrWriter, a: Attr | undefined, fsid: bigint): void {
  w.bool(a !== undefined);
  if (a) writeFattr3(w, a, fsid);
}

/** wcc_data (§2.6) without pre-op attributes (we cannot take them atomically). */
export function writeWcc(w: XdrWriter, after: Attr | undefined, fsid: bigint): void {
  w.bool(false);
  writePostOpAttr(w, after, fsid);
}

/**
 * Attributes decoded from fattr3. The server's fsid is not kept (nothing uses it), so a
 * listing of 10,000 entries allocates no BigInt.
 */
export interface Fattr3 extends Attr {
  /** ftype3 for types a guest cannot express (devices, sockets, FIFOs). */
  ftype: number;
}

/** Reads fattr3 (§2.6). */
export function readFattr3(r: XdrReader): Fattr3 {
  const ftype = r.uint32();
  const type: NodeType = TYPE_OF_FTYPE[ftype] ?? 'file';
  const mode = r.uint32() & 0o7777;
  const nlink = r.uint32();
  const uid = r.uint32();
  const gid = r.uint32();
  const size = r.uint64Number();
  // used, as 512-byte blocks (a server's nonsense past 2^53 read as the size's).
  const usedHi = r.uint32();
  const usedLo = r.uint32();
  const blocks = usedHi > 0x1f_ffff ? Math.ceil(size / 512) : Math.ceil((usedHi * 0x1_0000_0000 + usedLo) / 512);
  const major = r.uint32();
  const minor = r.uint32(); // rdev (specdata3)
  r.skip(8); // fsid
  const ino = r.uint64Low53();
  const [atime, atimeNs] = readTimeNs(r);
  const [mtime, mtimeNs] = readTimeNs(r);
  const [ctime, ctimeNs] = readTimeNs(r);
  const out: Fattr3 = { type, ftype, mode, nlink, uid, gid, size, blocks, ino, atime, mtime, ctime, atimeNs, mtimeNs, ctimeNs };
  if (type === 'char' || type === 'block') out.rdev = ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12);
  return out;
}

/** Reads post_op_attr. */
export function readPostOpAttr(r: XdrReader): Fattr3 | undefined {
  return r.bool() ? readFattr3(r) : undefined;
}

/** Reads wcc_data and returns the post-op attributes. */
export function readWcc(r: XdrReader): Fattr3 | undefined {
  if (r.bool()) {
    r.uint64(); // pre size
    readTime(r);
    readTime(r);
  }
  return readPostOpAttr(r);
}

/** sattr3 (§2.6): SetAttr plus whether times are set to the server's clock. */
export type Sattr3 = SetAttr;

/** Reads sattr3; SET_TO_SERVER_TIME becomes "now". */
export function readSattr3(r: XdrReader): Sattr3 {
  const s: Sattr3 = {};
  if (r.bool()) s.mode = r.uint32() & 0o7777;
  if (r.bool()) s.uid = r.uint32();
  if (r.bool()) s.gid = r.uint32();
  if (r.bool()) s.size = r.uint64Number();
  let clientTime = false;
  for (const key of ['atime', 'mtime'] as const) {
    const how = r.uint32();
    if (how === TimeHow.SET_TO_CLIENT_TIME) clientTime = true;
    if (how === TimeHow.SET_TO_SERVER_TIME) {
      s[key] = Date.now();
      s.timesNow = true;
    }
    else if (how === TimeHow.SET_TO_CLIENT_TIME) {
      // The exact nanoseconds too: a time in ms as a double keeps only ~µs at today's dates.
      [s[key], s[key === 'atime' ? 'atimeNs' : 'mtimeNs']] = readTimeNs(r);
    }
    else if (how !== TimeHow.DONT_CHANGE) throw new XdrError(`unknown time_how ${how}`);
  }
  // "Now" needs only write access, but not when an explicit time rides along.
  if (clientTime) delete s.timesNow;
  return s;
}

/** Writes sattr3. */
export function writeSattr3(w: XdrWriter, s: Sattr3): void {
  for (const v of [s.mode, s.uid, s.gid]) {
    w.bool(v !== undefined);
    if (v !== undefined) w.uint32(v);
  }
  w.bool(s.size !== undefined);
  if (s.size !== undefined) w.uint64(s.size);
  for (const [t, ns] of [[s.atime, s.atimeNs], [s.mtime, s.mtimeNs]] as const) {
    if (t === undefined) w.uint32(TimeHow.DONT_CHANGE);
    // "Now" on the server's clock, which needs only write access there (readSattr3).
    else if (s.timesNow) w.uint32(TimeHow.SET_TO_SERVER_TIME);
    else {
      w.uint32(TimeHow.SET_TO_CLIENT_TIME);
      writeTime(w, t, ns);
    }
  }
}
