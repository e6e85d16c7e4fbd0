import { close, fstat, open, read } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as dagPb from '@ipld/dag-pb';
import { FsBlockstore } from 'blockstore-fs';
import { NextToLast } from 'blockstore-fs/sharding';
import type { CID } from 'multiformats/cid';
import { FsError } from '../../vfs/FsError.ts';
import { Lru } from '../../vfs/cache/Lru.ts';
import { asCid } from '../verifyBlock.ts';
import { DAG_PB } from '../unixfsStat.ts';

// The embedded node's blockstore: blockstore-fs on disk (its layout, its atomic writes),
// with three things it does not do. Reads take the whole block in one readFile: its own
// get() streams each block in 64 KiB pieces, which measured 3-6x slower for a cat
// (docs/architecture.md). Missing blocks come from `fetchMissing` (trustless gateways,
// verified) unless the call is offline. And the store keeps a size cap with LRU
// eviction that never evicts a block reachable from a protected root (pins, the MFS root).

/** What LocalBlocks calls for a block it does not have. */
export type FetchMissing = (cid: CID, signal: AbortSignal | undefined) => Promise<Uint8Array>;

/** Options of a LocalBlocks. */
export interface LocalBlocksOptions {
  /** Bytes the store may hold before it evicts the least recently used unprotected blocks. */
  maxBytes: number;
  /** Fetches a block that is not on disk (already verified); absent = offline. */
  fetchMissing?: FetchMissing;
  /** Why a missing block cannot be fetched (offline mode), for the error message. */
  offlineReason?: string;
  /** CIDs whose whole DAGs must stay (pins, the MFS root). */
  protectedRoots: () => Promise<string[]>;
}

/** Options a get takes (interface-blockstore's plus helia's `offline`). */
export interface GetOpts {
  signal?: AbortSignal;
  offline?: boolean;
  /** Memory for a block read from disk (the caller reuses it: guests/ipfsBlockBuffers.ts). */
  alloc?: (size: number) => Uint8Array;
}

/** A block store on disk with gateway fallback and a size cap. Owner: the EmbeddedNode. */
export class LocalBlocks {
  private readonly fs: FsBlockstore;
  private readonly sharding = new NextToLast();
  /** Size of every block on disk by file name, least recently used first (evict() trims it). */
  private readonly lru = new Lru<string, number>(Infinity);
  private total = 0;
  private scanned: Promise<void> | undefined;
  private evicting: Promise<void> | undefined;
  /** Fetches under way, so concurrent readers of one missing block share one request. */
  private readonly fetching = new Map<string, Promise<Uint8Array>>();

  constructor(
    readonly dir: string,
    private opts: LocalBlocksOptions,
  ) {
    this.fs = new FsBlockstore(dir, { shardingStrategy: this.sharding });
  }

  /** Creates the folder and starts counting what is on disk. */
  async open(): Promise<void> {
    await this.fs.open();
    this.scanned ??= this.scan();
  }

  /** Replaces the fetch, offline and cap settings (settings changed while running). */
  configure(opts: LocalBlocksOptions): void {
    this.opts = opts;
  }

  /** Bytes on disk and block count, once the first scan finished. */
  async usage(): Promise<{ bytes: number; blocks: number }> {
    await this.scanned;
    return { bytes: this.total, blocks: this.lru.size };
  }

  private file(cid: CID): { name: string; path: string } {
    const { dir, file } = this.sharding.encode(cid);
    return { name: file, path: join(this.dir, dir, file) };
  }

  private async scan(): Promise<void> {
    let shards: string[] = [];
    try {
      shards = await readdir(this.dir);
    } catch {
      return;
    }
    for (const s of shards) {
      let names: string[];
      try {
        names = await readdir(join(this.dir, s));
      } catch {
        continue;
      }
      for (const n of names) {
        if (this.lru.has(n) || !n.endsWith('.data')) continue;
        try {
          const st = await stat(join(this.dir, s, n));
          this.lru.set(n, st.size);
          this.total += st.size;
        } catch {
          // removed meanwhile
        }
      }
    }
  }

  private touch(name: string, size: number): void {
    this.total += size - (this.lru.peek(name) ?? 0);
    this.lru.set(name, size);
  }

  /** True when the block is on disk (never fetches). */
  async has(cid: CID): Promise<boolean> {
    return await this.fs.has(asCid(cid));
  }

  /** The block from disk, else fetched (verified) and kept; offline: FsError IO at once. */
  async getBytes(cidIn: CID, opts: GetOpts = {}): Promise<Uint8Array> {
    const cid = asCid(cidIn);
    const f = this.file(cid);
    try {
      const bytes = opts.alloc ? await readInto(f.path, opts.alloc) : await readFile(f.path);
      this.touch(f.name, bytes.length);
      return bytes;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new FsError('IO', `block ${cid}: ${(err as Error).message}`, { cause: err });
    }
    const fetch = this.opts.fetchMissing;
    if (opts.offline || !fetch) {
      throw new FsError('IO', `block ${cid} is not in the local store (${this.dir}) and ${opts.offline ? 'this call may not use the network' : (this.opts.offlineReason ?? 'the node is offline')}`);
    }
    let p = this.fetching.get(f.name);
    if (!p) {
      p = fetch(cid, opts.signal).then(async (bytes) => {
        await this.putBytes(cid, bytes);
        return bytes;
      });
      this.fetching.set(f.name, p);
      const clear = (): void => void this.fetching.delete(f.name);
      p.then(clear, clear);
    }
    return await p;
  }

  /** Stores a block (the caller vouches for it: it made it, or verified it). */
  async putBytes(cidIn: CID, bytes: Uint8Array): Promise<void> {
    const cid = asCid(cidIn);
    await this.fs.put(cid, bytes);
    this.touch(this.file(cid).name, bytes.length);
    if (this.total > this.opts.maxBytes) void this.evict();
  }

  // --- the interface-blockstore subset @helia/unixfs uses (get, put, has) ---

  /** interface-blockstore get: the whole block as one chunk. */
  async *get(cid: CID, opts: GetOpts = {}): AsyncGenerator<Uint8Array> {
    yield await this.getBytes(cid, opts);
  }

  /** interface-blockstore put. */
  async put(cid: CID, value: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<CID> {
    let bytes: Uint8Array;
    if (value instanceof Uint8Array) bytes = value;
    else {
      const parts: Uint8Array[] = [];
      for await (const p of value) parts.push(p);
      bytes = Buffer.concat(parts);
    }
    await this.putBytes(cid, bytes);
    return cid;
  }

  /**
   * Evicts least recently used blocks until the store is under 90% of its cap, never a
   * block reachable from a protected root. Runs once at a time.
   */
  evict(): Promise<void> {
    this.evicting ??= (async () => {
      try {
        await this.scanned;
        const keep = await this.protectedNames();
        const target = this.opts.maxBytes * 0.9;
        for (const [name, size] of [...this.lru.oldestFirst()]) {
          if (this.total <= target) break;
          if (keep.has(name)) continue;
          await this.fs.delete(this.sharding.decode(name)).catch(() => undefined);
          if (this.lru.peek(name) === size) {
            this.lru.delete(name);
            this.total -= size;
          }
        }
      } finally {
        this.evicting = undefined;
      }
    })();
    return this.evicting;
  }

  /** File names of every local block reachable from a protected root (walked over local blocks only). */
  private async protectedNames(): Promise<Set<string>> {
    const keep = new Set<string>();
    const stack: CID[] = [];
    for (const r of await this.opts.protectedRoots()) stack.push(asCid(r));
    while (stack.length) {
      const cid = stack.pop()!;
      const f = this.file(cid);
      if (keep.has(f.name)) continue;
      keep.add(f.name);
      if (cid.code !== DAG_PB) continue;
      let bytes: Uint8Array;
      try {
        bytes = await readFile(f.path);
      } catch {
        continue; // not here: nothing below it to keep
      }
      for (const l of dagPb.decode(bytes).Links) stack.push(asCid(l.Hash));
    }
    return keep;
  }
}

/**
 * A whole file read into memory from `alloc` (open, fstat, read, close on the threadpool, as
 * readFile does, minus its fresh buffer per block: the FUSE process's GC ran mostly for them).
 */
function readInto(path: string, alloc: (size: number) => Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    open(path, 'r', (err, fd) => {
      if (err) return reject(err);
      const done = (e: Error | null, value?: Uint8Array): void => close(fd, () => (e ? reject(e) : resolve(value!)));
      fstat(fd, (e1, st) => {
        if (e1) return done(e1);
        const buf = alloc(st.size);
        let at = 0;
        const more = (): void => {
          if (at === st.size) return done(null, buf);
          read(fd, buf, at, st.size - at, at, (e2, n) => {
            if (e2) return done(e2);
            if (n === 0) return done(new Error(`${path}: the file ended at ${at} of ${st.size} bytes`));
            at += n;
            more();
          });
        };
        more();
      });
    });
  });
}
