import { randomBytes } from 'node:crypto';
import { readdirBatches } from '../../vfs/listing.ts';
import { Lru } from '../../vfs/cache/Lru.ts';
import type { Attr, CallOpts, DirEntry, Vfs } from '../../vfs/types.ts';
import type { EncodedEntries } from './EncodedEntries.ts';

// READDIR/READDIRPLUS paging (RFC 1813 §3.3.16-17). A listing starts with cookie 0;
// that reads the whole directory once and keeps it under a fresh cookie verifier, and
// every later page is a slice of it: entry i has cookie i+1. So a 100,000-entry
// directory costs one guest listing per pass, never one per page, and concurrent
// passes over the same directory each keep their own snapshot.

/** One snapshot of a directory. */
export interface Listing {
  readonly verf: bigint;
  readonly path: string;
  readonly entries: readonly DirEntry[];
  /** Its entries as entryplus3 / entry3 XDR, made by the first page that needs them. */
  plus?: EncodedEntries;
  plain?: EncodedEntries;
  /** The folder's attributes when the snapshot was taken (answered with its later pages). */
  dirAttr?: Attr;
  /** The snapshot of the same folder before this one (its encodings may be reused), if still kept. */
  previous?: Listing;
}

/** Snapshots kept at once (least recently used dropped first). */
const MAX_LISTINGS = 64;
/** Entries one snapshot may hold; bigger directories are refused rather than exhausting memory. */
const MAX_ENTRIES = 2_000_000;

/** Directory snapshots by verifier; owned by one NFS server. */
export class DirListingCache {
  /** By verifier, least recently used out first past MAX_LISTINGS. */
  private readonly byVerf = new Lru<bigint, Listing>(MAX_LISTINGS, (verf, dropped) => {
    if (this.latest.get(dropped.path) === verf) this.latest.delete(dropped.path);
  });
  /** The newest snapshot's verifier of each directory kept. */
  private readonly latest = new Map<string, bigint>();
  /**
   * The newest snapshot made of each entries array a guest handed out. A guest that keeps
   * its listings (the local guest, while inotify proves them fresh) hands out the same array
   * again, and its snapshot's encodings are reused even after MAX_LISTINGS others pushed it
   * out: a walk of a tree lists each folder once per pass, more than 64 folders apart.
   * Those encodings then live as long as the guest keeps the listing (the local guest: at
   * most 1,024 entries each, in folders it watches), about as much memory as the listing.
   */
  private readonly byEntries = new WeakMap<readonly DirEntry[], Listing>();
  private nextVerf = randomBytes(8).readBigUInt64BE(0) | 1n;

  constructor(private readonly vfs: Vfs) {}

  /**
   * The snapshot a READDIR continues from. Cookie 0 starts a new one. A non-zero cookie
   * uses the snapshot named by its verifier, or (zero/unknown verifier, as some clients
   * send) the newest one of that directory, or lists afresh: the guest's order is stable.
   */
  async get(path: string, cookie: bigint, verf: bigint, opts: CallOpts): Promise<Listing> {
    const known = this.continued(path, cookie, verf);
    if (known) return known;
    const entries: DirEntry[] = [];
    for await (const batch of readdirBatches(this.vfs, path, opts)) {
      for (const e of batch) entries.push(e);
      if (entries.length > MAX_ENTRIES) throw new Error(`directory ${path} has more than ${MAX_ENTRIES} entries`);
    }
    return this.store(path, entries);
  }

  /**
   * get() with the guest's synchronous face (VfsNow.readdir of a small folder); undefined
   * when the folder cannot be listed so (then get() lists it).
   */
  getNow(path: string, cookie: bigint, verf: bigint): Listing | undefined {
    const known = this.continued(path, cookie, verf);
    if (known) return known;
    const entries = this.vfs.now?.readdir(path);
    return entries && this.store(path, entries);
  }

  /** Keeps a fresh snapshot of `path` under a new verifier. */
  private store(path: string, entries: readonly DirEntry[]): Listing {
    const same = this.byEntries.get(entries);
    const previous = same?.path === path ? same : this.byVerf.peek(this.latest.get(path) ?? -1n);
    if (previous) previous.previous = undefined; // one step back only
    const listing: Listing = { verf: this.nextVerf, path, entries, ...(previous ? { previous } : {}) };
    this.byEntries.set(entries, listing);
    this.nextVerf = BigInt.asUintN(64, this.nextVerf + 2n);
    this.touch(listing);
    return listing;
  }

  /** The snapshot a non-zero cookie continues (see get), without listing afresh; undefined when there is none. */
  continued(path: string, cookie: bigint, verf: bigint): Listing | undefined {
    if (cookie === 0n) return undefined;
    const known = this.byVerf.peek(verf) ?? this.byVerf.peek(this.latest.get(path) ?? -1n);
    if (!known || known.path !== path) return undefined;
    this.touch(known);
    return known;
  }

  /** Keeps `l` as the most recently used snapshot, and the newest of its directory. */
  private touch(l: Listing): void {
    this.byVerf.set(l.verf, l);
    this.latest.set(l.path, l.verf);
  }
}
