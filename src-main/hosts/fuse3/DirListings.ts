import { hasRawBytes, nameToBytes } from '../../sys/byteNames.ts';
import { FsError } from '../../vfs/FsError.ts';
import { Lru } from '../../vfs/cache/Lru.ts';
import { readdirBatches } from '../../vfs/listing.ts';
import type { Attr, CallOpts, DirEntry, Vfs } from '../../vfs/types.ts';
import { type FuseNode, NodeTable } from './NodeTable.ts';
import { TYPE_BITS } from '../../vfs/modeType.ts';
import { ENTRY_OUT, type OwnerOverride, u64, validOf, writeFuseAttr } from './wire.ts';

// Listings of one mount: a snapshot of a folder's entries (with attributes) that READDIR /
// READDIRPLUS page through by offset. The offset handed to the kernel is the snapshot's id
// times 2^24 plus the entry's index + 1, so a later call finds its snapshot by the offset
// alone: kernels that know zero-message opendir (5.1+, FUSE_CAP_NO_OPENDIR_SUPPORT) then
// send no OPENDIR and RELEASEDIR at all (two round trips fewer per folder for find and
// du), and a listing is taken when a read starts at offset 0. Snapshots are kept for the
// last LISTINGS_KEPT folders; a read whose snapshot is gone lists the folder again and
// goes on from the same index.
// A snapshot fills while the guest lists (issue 11: a node's `ls` of a 5,000-entry IPFS
// folder takes seconds): a page is answered as soon as entries past its offset arrive, so
// `ls -l`'s work per entry overlaps the guest's listing instead of following it. Entries
// are only appended, so offsets stay stable; an empty page (end of folder) is sent only
// once the listing is whole, and a listing that fails fails every later page of it (the
// reader gets the error, never a shorter folder).
// Pages are written in the kernel's own wire format (struct fuse_dirent and
// fuse_direntplus of <linux/fuse.h>, a stable ABI) here in JavaScript: one FFI call per
// entry (fuse_add_direntry_plus) would cost more than the entry itself.

/** sizeof(struct fuse_dirent) before the name. */
const DIRENT_NAME = 24;

interface Listed {
  name: string;
  /** The name's length in bytes (written into the page from the string: no Buffer per entry). */
  len: number;
  attr: Attr | undefined;
  /** The name's bytes when they are not UTF-8 (sys/byteNames.ts); Node would write U+FFFD for them. */
  raw: Buffer | undefined;
}

/** A guest's entry as a page lists it. */
function listed(e: DirEntry): Listed {
  if (!hasRawBytes(e.name)) return { name: e.name, len: Buffer.byteLength(e.name), attr: e.attr, raw: undefined };
  const raw = nameToBytes(e.name);
  return { name: e.name, len: raw.length, attr: e.attr, raw };
}

/** One folder's snapshot: entries so far, and how its listing ended. */
interface Snapshot {
  readonly list: Listed[];
  /** Undefined while the guest still lists; then whole, or the error it failed with. */
  end: { ok: true } | { ok: false; error: unknown } | undefined;
  /** Pages waiting for more entries or the end (woken by every batch). */
  waiting: (() => void)[];
  /** Stops the guest's listing when the kernel closes the folder before its end. */
  stop: AbortController | undefined;
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

/** A listing's first two entries. */
function dots(): Listed[] {
  return [
    { name: '.', len: 1, attr: undefined, raw: undefined },
    { name: '..', len: 2, attr: undefined, raw: undefined },
  ];
}

/** The listings of one mount (owned by its ops), in least-recently-used order. */
export class DirListings {
  /** By id, least recently used out first past LISTINGS_KEPT: forgotten, not stopped (a page may still be waiting on one; it holds the snapshot). */
  private readonly open_ = new Lru<number, Snapshot>(LISTINGS_KEPT);
  private next = 1;

  /**
   * Starts listing `path` and returns at once; the id goes in fuse_file_info.fh (0 where no
   * OPENDIR is sent). Pages wait for the entries they need (pageWhenReady).
   */
  open(vfs: Vfs, path: string, opts: CallOpts): number {
    const stop = new AbortController();
    const snap: Snapshot = { list: dots(), end: undefined, waiting: [], stop };
    const id = this.keep(snap);
    void this.fill(snap, vfs, path, { ...opts, signal: AbortSignal.any([opts.signal, stop.signal]) });
    return id;
  }

  /** Appends the guest's batches to `snap` as they come (vfs/listing.ts: each layer costs promises per step, not per entry). */
  private async fill(snap: Snapshot, vfs: Vfs, path: string, opts: CallOpts): Promise<void> {
    try {
      for await (const batch of readdirBatches(vfs, path, opts)) {
        for (const e of batch) snap.list.push(listed(e));
        DirListings.wake(snap);
      }
      snap.end = { ok: true };
    } catch (err) {
      snap.end = { ok: false, error: err };
    }
    snap.stop = undefined;
    DirListings.wake(snap);
  }

  private static wake(snap: Snapshot): void {
    const w = snap.waiting;
    snap.waiting = [];
    for (const f of w) f();
  }

  /** A new snapshot; its id. */
  private keep(snap: Snapshot): number {
    const id = this.next++;
    this.open_.set(id, snap);
    return id;
  }

  /** RELEASEDIR: forgets the snapshot, and stops its listing when it has not ended (nobody can read it any more). */
  close(id: number): void {
    const snap = this.open_.peek(id);
    this.open_.delete(id);
    snap?.stop?.abort(new FsError('Closed', 'folder closed before its listing ended'));
  }

  /**
   * The snapshot and entry index a read at `off` continues: the one the offset names when
   * it is still kept, else a fresh listing (at offset 0, or when it was dropped).
   */
  at(vfs: Vfs, path: string, off: number, opts: CallOpts): { id: number; index: number } {
    return this.atNow(vfs, path, off) ?? { id: this.open(vfs, path, opts), index: off % PER_LISTING };
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
    for (const e of entries) list.push(listed(e));
    return { id: this.keep({ list, end: { ok: true }, waiting: [], stop: undefined }), index };
  }

  /**
   * Resolves once snapshot `id` holds its first entries or its listing ended; rejects (and
   * drops it) when the listing failed first, so OPENDIR reports what it always did.
   */
  async ready(id: number): Promise<void> {
    for (;;) {
      const snap = this.open_.peek(id);
      if (!snap) throw new FsError('Closed', 'folder not open');
      if (snap.end?.ok === false) {
        this.open_.delete(id);
        throw snap.end.error;
      }
      if (snap.end || snap.list.length > 2) return;
      await new Promise<void>((r) => snap.waiting.push(r));
    }
  }

  /** page(), once the snapshot holds entries past `index` or its listing ended. */
  async pageWhenReady(id: number, dir: FuseNode, size: number, index: number, plus: boolean, nodes: NodeTable, own: OwnerOverride, ctx: PageContext): Promise<Buffer> {
    const snap = this.open_.peek(id);
    if (!snap) throw new FsError('Closed', 'folder not open');
    for (;;) {
      const b = this.pageOf(snap, id, dir, size, index, plus, nodes, own, ctx);
      if (b) return b;
      await new Promise<void>((r) => snap.waiting.push(r));
    }
  }

  /**
   * One page of at most `size` bytes of snapshot `id` from entry `index`. With `plus`, each
   * entry carries its node id and attributes, and counts as a lookup the kernel now holds.
   * Undefined when no entry past `index` (nor past the dots) has arrived yet and the
   * listing goes on; throws the listing's error once it failed.
   */
  page(id: number, dir: FuseNode, size: number, index: number, plus: boolean, nodes: NodeTable, own: OwnerOverride, ctx: PageContext, scratch?: Buffer): Buffer | undefined {
    const snap = this.open_.peek(id);
    if (!snap) throw new FsError('Closed', 'folder not open');
    return this.pageOf(snap, id, dir, size, index, plus, nodes, own, ctx, scratch);
  }

  private pageOf(snap: Snapshot, id: number, dir: FuseNode, size: number, index: number, plus: boolean, nodes: NodeTable, own: OwnerOverride, ctx: PageContext, scratch?: Buffer): Buffer | undefined {
    if (snap.end?.ok === false) throw snap.end.error;
    const list = snap.list;
    // ("." and ".." alone are not worth a round trip: the reader can do nothing with them)
    if (!snap.end && (index >= list.length || list.length <= 2)) return undefined;
    // Used: the most recent now (when still kept).
    this.open_.get(id);
    // A scratch buffer (replied before anything else runs) spares a zeroed allocation per
    // page: off-heap bytes that made V8 run a full collection every ~150 ms during rm -rf.
    const b = scratch && scratch.length >= size ? scratch : Buffer.alloc(size);
    let pos = 0;
    const [ev, evn] = validOf(ctx.entryTimeoutS);
    const [av, avn] = validOf(ctx.attrTimeoutS);
    for (let i = index; i < list.length; i++) {
      const e = list[i]!;
      const len = e.len;
      const rec = align8((plus ? ENTRY_OUT : 0) + DIRENT_NAME + len);
      if (pos + rec > size) break;
      if (b === scratch) b.fill(0, pos, pos + rec);
      let d = pos;
      let ino = e.attr?.ino ?? 0;
      const type = e.attr ? TYPE_BITS[e.attr.type] >>> 12 : 4; // DT_DIR for "." and ".."
      if (plus) {
        // "." and ".." (and entries without attributes) carry node id 0: no lookup is counted.
        if (e.attr) {
          const n = nodes.remember(NodeTable.child(dir, e.name), e.attr.ino);
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
      if (e.raw) e.raw.copy(b, d + DIRENT_NAME);
      else b.write(e.name, d + DIRENT_NAME, len, 'utf8');
      pos += rec;
    }
    return b.subarray(0, pos);
  }
}
