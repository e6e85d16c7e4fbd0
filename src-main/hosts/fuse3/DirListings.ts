import { FsError } from '../../vfs/FsError.ts';
import { readdirBatches } from '../../vfs/listing.ts';
import type { Attr, CallOpts, Vfs } from '../../vfs/types.ts';
import { type FuseNode, NodeTable } from './NodeTable.ts';
import { type OwnerOverride, typeBits } from './structs.ts';

// Listings of one mount: a snapshot of a folder's entries (with attributes) that READDIR /
// READDIRPLUS page through by offset. The offset handed to the kernel is the snapshot's id
// times 2^24 plus the entry's index + 1, so a later call finds its snapshot by the offset
// alone: kernels that know zero-message opendir (5.1+, FUSE_CAP_NO_OPENDIR_SUPPORT) then
// send no OPENDIR and RELEASEDIR at all (two round trips fewer per folder for find and
// du), and a listing is taken when a read starts at offset 0. Snapshots are kept for the
// last LISTINGS_KEPT folders; a read whose snapshot is gone lists the folder again and
// goes on from the same index.
// Pages are written in the kernel's own wire format (struct fuse_dirent and
// fuse_direntplus of <linux/fuse.h>, a stable ABI) here in JavaScript: one FFI call per
// entry (fuse_add_direntry_plus) would cost more than the entry itself.

/** sizeof(struct fuse_dirent) before the name. */
const DIRENT_NAME = 24;
/** sizeof(struct fuse_entry_out): nodeid, generation, valid times, struct fuse_attr (88). */
const ENTRY_OUT = 128;

interface Listed {
  name: string;
  nameBytes: Buffer;
  attr: Attr | undefined;
}

/** What a page needs from its mount. */
interface PageContext {
  attrTimeoutS: number;
  entryTimeoutS: number;
}

const align8 = (n: number): number => (n + 7) & ~7;
/** Entries per snapshot the offset can address (2^24); ids above it fit a double exactly. */
const PER_LISTING = 0x100_0000;
/** Snapshots kept when no RELEASEDIR says when to drop them. */
const LISTINGS_KEPT = 256;

function u64(b: Buffer, off: number, n: number): void {
  b.writeUInt32LE(n >>> 0, off);
  b.writeUInt32LE(Math.floor(n / 0x1_0000_0000) >>> 0, off + 4);
}

/** Seconds and nanoseconds of a time given in ms and maybe exact ns. */
function secNsec(ms: number, ns: bigint | undefined): [number, number] {
  if (ns !== undefined) {
    const s = ns / 1_000_000_000n;
    return [Number(s), Number(ns - s * 1_000_000_000n)];
  }
  const s = Math.floor(ms / 1000);
  return [s, Math.min(999_999_999, Math.round((ms - s * 1000) * 1000) * 1000)];
}

/** Writes struct fuse_attr (88 bytes). */
function writeFuseAttr(b: Buffer, off: number, a: Attr, own: OwnerOverride): void {
  u64(b, off, a.ino);
  u64(b, off + 8, a.size);
  u64(b, off + 16, Math.ceil(a.size / 512));
  const [as, an] = secNsec(a.atime, a.atimeNs);
  const [ms, mn] = secNsec(a.mtime, a.mtimeNs);
  const [cs, cn] = secNsec(a.ctime, a.ctimeNs);
  u64(b, off + 24, as);
  u64(b, off + 32, ms);
  u64(b, off + 40, cs);
  b.writeUInt32LE(an, off + 48);
  b.writeUInt32LE(mn, off + 52);
  b.writeUInt32LE(cn, off + 56);
  b.writeUInt32LE((typeBits(a.type) | (a.mode & 0o7777)) >>> 0, off + 60);
  b.writeUInt32LE(a.nlink || 1, off + 64);
  b.writeUInt32LE((own.uid ?? a.uid) >>> 0, off + 68);
  b.writeUInt32LE((own.gid ?? a.gid) >>> 0, off + 72);
  b.writeUInt32LE((a.rdev ?? 0) >>> 0, off + 76);
  b.writeUInt32LE(4096, off + 80);
  b.writeUInt32LE(0, off + 84);
}

/** A listing's first two entries. */
function dots(): Listed[] {
  return [
    { name: '.', nameBytes: Buffer.from('.'), attr: undefined },
    { name: '..', nameBytes: Buffer.from('..'), attr: undefined },
  ];
}

/** Splits a timeout in seconds into the kernel's (seconds, nanoseconds). */
function valid(s: number): [number, number] {
  const whole = Math.floor(s);
  return [whole, Math.round((s - whole) * 1e9)];
}

/** The listings of one mount (owned by its ops), in least-recently-used order. */
export class DirListings {
  private readonly open_ = new Map<number, Listed[]>();
  private next = 1;

  /** Lists `path` now; the id goes in fuse_file_info.fh (0 where no OPENDIR is sent). */
  async open(vfs: Vfs, path: string, opts: CallOpts): Promise<number> {
    const list = dots();
    // A batch at a time (vfs/listing.ts): each wrapper layer costs promises per step.
    for await (const batch of readdirBatches(vfs, path, opts)) for (const e of batch) list.push({ name: e.name, nameBytes: Buffer.from(e.name), attr: e.attr });
    return this.keep(list);
  }

  /** A new snapshot of `list`; its id. */
  private keep(list: Listed[]): number {
    const id = this.next++;
    this.open_.set(id, list);
    if (this.open_.size > LISTINGS_KEPT) {
      const oldest = this.open_.keys().next().value;
      if (oldest !== undefined) this.open_.delete(oldest);
    }
    return id;
  }

  close(id: number): void {
    this.open_.delete(id);
  }

  /**
   * The snapshot and entry index a read at `off` continues: the one the offset names when
   * it is still kept, else a fresh listing (at offset 0, or when it was dropped).
   */
  async at(vfs: Vfs, path: string, off: number, opts: CallOpts): Promise<{ id: number; index: number }> {
    return this.atNow(vfs, path, off) ?? { id: await this.open(vfs, path, opts), index: off % PER_LISTING };
  }

  /**
   * at(), by blocking calls only: the snapshot the offset names, else a listing the guest
   * gives at once (Vfs.now.readdir: a small folder on a local disk); undefined when neither.
   */
  atNow(vfs: Vfs, path: string, off: number): { id: number; index: number } | undefined {
    const id = Math.floor(off / PER_LISTING);
    const index = off % PER_LISTING;
    if (off > 0 && this.open_.has(id)) return { id, index };
    const entries = vfs.now?.readdir(path);
    if (!entries) return undefined;
    const list = dots();
    for (const e of entries) list.push({ name: e.name, nameBytes: Buffer.from(e.name), attr: e.attr });
    return { id: this.keep(list), index };
  }

  /**
   * One page of at most `size` bytes of snapshot `id` from entry `index`. With `plus`, each
   * entry carries its node id and attributes, and counts as a lookup the kernel now holds.
   */
  page(id: number, dir: FuseNode, size: number, index: number, plus: boolean, nodes: NodeTable, own: OwnerOverride, ctx: PageContext): Buffer {
    const list = this.open_.get(id);
    if (!list) throw new FsError('Closed', 'folder not open');
    // Used: the most recent at the end of the map's order.
    this.open_.delete(id);
    this.open_.set(id, list);
    const b = Buffer.alloc(size);
    let pos = 0;
    const [ev, evn] = valid(ctx.entryTimeoutS);
    const [av, avn] = valid(ctx.attrTimeoutS);
    for (let i = index; i < list.length; i++) {
      const e = list[i]!;
      const len = e.nameBytes.length;
      const rec = align8((plus ? ENTRY_OUT : 0) + DIRENT_NAME + len);
      if (pos + rec > size) break;
      let d = pos;
      let ino = e.attr?.ino ?? 0;
      const type = e.attr ? typeBits(e.attr.type) >>> 12 : 4; // DT_DIR for "." and ".."
      if (plus) {
        // "." and ".." (and entries without attributes) carry node id 0: no lookup is counted.
        if (e.attr) {
          const n = nodes.remember(NodeTable.child(dir, e.name));
          u64(b, pos, n.id);
          u64(b, pos + 16, ev);
          u64(b, pos + 24, av);
          b.writeUInt32LE(evn, pos + 32);
          b.writeUInt32LE(avn, pos + 36);
          writeFuseAttr(b, pos + 40, e.attr, own);
        }
        d = pos + ENTRY_OUT;
      }
      if (ino === 0) ino = 1;
      u64(b, d, ino);
      u64(b, d + 8, id * PER_LISTING + i + 1);
      b.writeUInt32LE(len, d + 16);
      b.writeUInt32LE(type, d + 20);
      e.nameBytes.copy(b, d + DIRENT_NAME);
      pos += rec;
    }
    return b.subarray(0, pos);
  }
}
