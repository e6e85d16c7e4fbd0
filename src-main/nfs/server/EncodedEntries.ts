import type { Attr, DirEntry } from '../../vfs/types.ts';
import { writeFattr3 } from '../nfs3/attrs.ts';
import { XdrWriter } from '../xdr/XdrWriter.ts';
import { HANDLE_BYTES, type HandleTable } from './HandleTable.ts';
import { childPath } from './names.ts';

// The entries of one directory snapshot as XDR, encoded once (RFC 1813 §3.3.16 entry3,
// §3.3.17 entryplus3), so that a READDIR(PLUS) page is a slice of bytes already made:
// `nfs-ls -R` of 10,000 files asks ~190 pages, and encoding every entry of every page
// afresh (a handle, an fattr3, a name) was most of the server's CPU for a listing.
// Entries are encoded in chunks the first time a page reaches them, so a huge folder
// read only in part costs only that part. Entry i carries cookie i + 1 (DirListingCache).

/** Entries encoded per chunk. */
const CHUNK = 256;

/** Fixed bytes of an entryplus3 besides its name: value-follows, fileid, cookie, post_op_attr (84 + 4), post_op_fh3 (4 + 4 + handle). */
const PLUS_FIXED = 4 + 8 + 8 + 4 + 84 + 4 + 4 + HANDLE_BYTES;
/** Fixed bytes of an entry3 besides its name: value-follows, fileid, cookie. */
const PLAIN_FIXED = 4 + 8 + 8;

interface Chunk {
  buf: Buffer;
  /** Byte offset of each entry of the chunk in buf, and buf's length last. */
  at: Int32Array;
}

/** One page of entries: bytes to append to a reply and the index after the last entry. */
export interface EncodedPage {
  parts: Buffer[];
  end: number;
}

/** The XDR of one snapshot's entries (entryplus3 when `plus`, else entry3); owned by its Listing. */
export class EncodedEntries {
  private readonly chunks: (Chunk | undefined)[];
  /** The handle table's generation when this was made (see HandleTable.generation). */
  private readonly handleGen: number;
  /** The previous snapshot of the same folder, whose chunks are reused where nothing changed. */
  private prev: EncodedEntries | undefined;

  constructor(
    private readonly dir: string,
    private readonly entries: readonly DirEntry[],
    private readonly plus: boolean,
    private readonly handles: HandleTable,
    private readonly fsid: bigint,
    prev?: EncodedEntries,
  ) {
    this.chunks = new Array<Chunk | undefined>(Math.ceil(entries.length / CHUNK));
    this.handleGen = handles.generation;
    if (prev && prev.dir === dir && prev.plus === plus && prev.fsid === fsid) {
      this.prev = prev;
      prev.prev = undefined; // one step back only: no chain of old snapshots kept alive
    }
  }

  /** How many entries there are. */
  get length(): number {
    return this.entries.length;
  }

  /**
   * Entries from `start` that fit: the whole page in `budget` bytes, and (READDIRPLUS)
   * the entry3-sized part in `dircount` when it is not 0. At least one entry is taken
   * when any is left and it fits the budget; `end === start` means none fits.
   */
  page(start: number, budget: number, dircount: number): EncodedPage {
    const parts: Buffer[] = [];
    const fixed = this.plus ? PLUS_FIXED : PLAIN_FIXED;
    let used = 0;
    let dirUsed = 0;
    let i = start;
    while (i < this.entries.length) {
      const c = this.chunk(Math.floor(i / CHUNK));
      const first = Math.floor(i / CHUNK) * CHUNK;
      const last = first + c.at.length - 1;
      const from = i;
      for (; i < last; i++) {
        const size = c.at[i - first + 1]! - c.at[i - first]!;
        // READDIRPLUS's dircount counts fileid, name and cookie only (§3.3.17).
        const dirPart = size - fixed + 16;
        if (used + size > budget || (dircount > 0 && dirUsed + dirPart > dircount && i > start)) break;
        used += size;
        dirUsed += dirPart;
      }
      if (i > from) parts.push(c.buf.subarray(c.at[from - first]!, c.at[i - first]!));
      if (i < last) break; // the page is full inside this chunk
    }
    return { parts, end: i };
  }

  private chunk(k: number): Chunk {
    const have = this.chunks[k];
    if (have) return have;
    const first = k * CHUNK;
    const last = Math.min(this.entries.length, first + CHUNK);
    const reused = this.reusable(k, first, last);
    if (reused) {
      this.chunks[k] = reused;
      return reused;
    }
    const w = new XdrWriter(this.plus ? (last - first) * (PLUS_FIXED + 32) : (last - first) * (PLAIN_FIXED + 32));
    const at = new Int32Array(last - first + 1);
    const fh = this.plus ? Buffer.allocUnsafe(HANDLE_BYTES) : undefined;
    for (let i = first; i < last; i++) {
      at[i - first] = w.length;
      const e = this.entries[i]!;
      w.bool(true).uint64(e.attr.ino).string(e.name).uint64(i + 1);
      if (fh) {
        writePostOpAttrOf(w, e.attr, this.fsid);
        this.handles.writeHandle(fh, 0, childPath(this.dir, e.name));
        w.bool(true).opaque(fh);
      }
    }
    at[last - first] = w.length;
    const c = { buf: w.toBuffer(), at };
    this.chunks[k] = c;
    return c;
  }

  /**
   * The previous snapshot's chunk k when it encodes exactly these entries: the same names
   * at the same places with the same attributes (freshly read: only the encoding is
   * reused), and every handle as it was. A folder listed again unchanged (`nfs-ls -R` run
   * twice) costs a comparison per entry instead of an encoding.
   */
  private reusable(k: number, first: number, last: number): Chunk | undefined {
    const prev = this.prev;
    const c = prev?.chunks[k];
    if (!prev || !c || c.at.length - 1 !== last - first || prev.handleGen !== this.handles.generation || this.handleGen !== prev.handleGen) return undefined;
    // The very same entries (a guest answering a listing it keeps: the local guest while
    // inotify proves it fresh) need no comparison.
    if (prev.entries === this.entries) return c;
    for (let i = first; i < last; i++) if (!sameEntry(prev.entries[i]!, this.entries[i]!)) return undefined;
    return c;
  }
}

/** Whether two entries encode to the same bytes. */
function sameEntry(a: DirEntry, b: DirEntry): boolean {
  const x = a.attr;
  const y = b.attr;
  return (
    a.name === b.name &&
    x.ino === y.ino &&
    x.size === y.size &&
    x.blocks === y.blocks &&
    x.mtime === y.mtime &&
    x.ctime === y.ctime &&
    x.atime === y.atime &&
    x.mode === y.mode &&
    x.type === y.type &&
    x.nlink === y.nlink &&
    x.uid === y.uid &&
    x.gid === y.gid &&
    (x.rdev ?? 0) === (y.rdev ?? 0)
  );
}

/** post_op_attr with attributes present (§2.6). */
function writePostOpAttrOf(w: XdrWriter, a: Attr, fsid: bigint): void {
  w.bool(true);
  writeFattr3(w, a, fsid);
}
