import { Lru } from '../vfs/cache/Lru.ts';
import type { CallOpts } from '../vfs/types.ts';
import { FsError } from '../vfs/FsError.ts';

// Random-access reads of immutable content: fetched in aligned chunks with ranged `cat`
// and kept in one LRU shared by every handle of a guest (PERF.md: a 4 KiB `cat` costs
// ~2 ms, so a chunk fetched once serves many small reads around it).

/** Bytes per cached chunk. */
export const CHUNK_SIZE = 256 * 1024;

/** Fetches `length` bytes at `offset` of `cid` in one ranged call. */
export type RangeFetch = (cid: string, offset: number, length: number, opts: CallOpts) => Promise<Uint8Array>;

/** The chunk cache of one guest. Owner: the guest that created it. */
export class ChunkCache {
  private readonly lru: Lru<string, Uint8Array>;
  /** Fetches in flight, so concurrent readers of one chunk share one call. */
  private readonly inflight = new Map<string, Promise<Uint8Array>>();

  constructor(
    private readonly fetchRange: RangeFetch,
    maxChunks = 256,
  ) {
    this.lru = new Lru(maxChunks);
  }

  /** Reads [pos, pos+len) of a file of `size` bytes (len already clipped to the size). */
  async read(cid: string, size: number, pos: number, len: number, opts: CallOpts): Promise<Uint8Array> {
    if (len <= 0) return new Uint8Array(0);
    const first = Math.floor(pos / CHUNK_SIZE);
    const last = Math.floor((pos + len - 1) / CHUNK_SIZE);
    const chunks = await Promise.all(
      Array.from({ length: last - first + 1 }, (_, i) => this.chunk(cid, size, first + i, opts)),
    );
    if (chunks.length === 1) {
      const off = pos - first * CHUNK_SIZE;
      return chunks[0]!.subarray(off, off + len);
    }
    const out = new Uint8Array(len);
    let written = 0;
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i]!;
      const start = i === 0 ? pos - first * CHUNK_SIZE : 0;
      const n = Math.min(c.length - start, len - written);
      out.set(c.subarray(start, start + n), written);
      written += n;
    }
    return out;
  }

  private async chunk(cid: string, size: number, index: number, opts: CallOpts): Promise<Uint8Array> {
    const key = `${cid}:${index}`;
    const hit = this.lru.get(key);
    if (hit) return hit;
    let p = this.inflight.get(key);
    if (!p) {
      const offset = index * CHUNK_SIZE;
      const length = Math.min(CHUNK_SIZE, size - offset);
      p = this.fetchRange(cid, offset, length, opts).then(
        (data) => {
          this.inflight.delete(key);
          if (data.length !== length) {
            throw new FsError('IO', `read ${cid}: the node sent ${data.length} bytes at ${offset}, expected ${length}`);
          }
          this.lru.set(key, data);
          return data;
        },
        (err: unknown) => {
          this.inflight.delete(key);
          throw err;
        },
      );
      this.inflight.set(key, p);
    }
    return await p;
  }

  /** Drops every chunk. */
  clear(): void {
    this.lru.clear();
  }
}
