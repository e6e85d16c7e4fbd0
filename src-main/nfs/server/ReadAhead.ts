import type { Attr } from '../../vfs/types.ts';
import type { BufferPool } from '../rpc/BufferPool.ts';

// Read-ahead of one open file for a sequential NFS reader, in large aligned chunks.
// libnfs's nfs-cp keeps one 1 MiB READ in flight, so every READ's turnaround counts: a
// guest read per READ cost a threadpool hop and its wake-ups on the READ's path, and (on
// a 2-core machine) as much CPU as the copy itself. A chunk is read once, several READs
// are answered with views of it (the reply writes them by reference, XdrWriter), and the
// next chunks are read while the client consumes these. Chunks are not kept long: a
// reader that pauses gets its bytes read afresh (no old bytes served late).

/** Bytes per chunk; READs inside one chunk are answered from it. */
export const CHUNK_BYTES = 4 << 20;
/** Chunks read ahead of the one being read. */
const AHEAD = 2;
/** A chunk older than this is read again rather than served. */
const MAX_AGE_MS = 1_000;
/**
 * A pause longer than this ends a stream: its chunks are dropped, so a later reader of the
 * same file (a new copy after the file changed) never gets bytes read ahead for another.
 */
const IDLE_MS = 100;

/** Bytes for one READ; `release` returns a pooled buffer once the reply is sent. */
export interface ReadResult {
  data: Uint8Array;
  release?: () => void;
  /** The file's attributes read with the chunk these bytes come from (for the READ's access check). */
  attr?: Attr;
}

/**
 * Reads `buf.length` bytes at `offset` into `buf` (fewer only at end of file); a number
 * when the guest read inline (FileHandleNow), so the chunk is ready with no promise step.
 */
export type ReadInto = (buf: Buffer, offset: number, signal: AbortSignal) => Promise<number> | number;
/** The file's attributes, read afresh (at once when the guest can: no threadpool hop, no wake-up per chunk). */
export type StatFile = (signal: AbortSignal) => Promise<Attr> | Attr;

/** Budget of chunk buffers shared by the read-aheads of one server (bounds memory). */
export interface ChunkBudget {
  pool: BufferPool;
  /** Chunk buffers taken and not yet given back. */
  live: number;
  max: number;
}

/** One chunk: the bytes of [index * CHUNK_BYTES, +CHUNK_BYTES) once read. */
class Chunk {
  /** Holders: the read-ahead itself while it keeps the chunk, plus each reply still being sent. */
  refs = 1;
  /** Bytes read (fewer than CHUNK_BYTES at end of file); -1 until read, or when it failed. */
  n = -1;
  readonly born = performance.now();
  readonly ready: Promise<void>;
  /** The file's attributes, asked for alongside the bytes; undefined when that failed. */
  attr: Attr | undefined;
  /** The read failed: the buffer may still be written by it later, so it is never reused. */
  private poisoned = false;

  constructor(
    readonly index: number,
    private readonly buf: Buffer,
    private readonly budget: ChunkBudget,
    read: ReadInto,
    stat: StatFile | undefined,
    signal: AbortSignal,
  ) {
    let bytes: Promise<void>;
    try {
      const got = read(buf, index * CHUNK_BYTES, signal);
      if (typeof got === 'number') {
        this.n = got;
        bytes = Promise.resolve();
      } else {
        bytes = got.then(
          (n) => {
            this.n = n;
          },
          () => {
            this.n = -1;
            this.poisoned = true;
          },
        );
      }
    } catch {
      this.poisoned = true; // as a failed async read: the buffer is not reused
      bytes = Promise.resolve();
    }
    let attr: Promise<void> | undefined;
    try {
      const a = stat?.(signal);
      if (a instanceof Promise)
        attr = a.then(
          (got) => {
            this.attr = got;
          },
          () => {},
        );
      else this.attr = a;
    } catch {
      // no attributes: the READ is checked against a getattr of its own (OpenFileCache.read)
    }
    this.ready = attr ? Promise.all([bytes, attr]).then(() => {}) : bytes;
  }

  /** Drops one holder; the buffer goes back to the pool with the last. */
  unref(): void {
    if (--this.refs > 0) return;
    this.budget.live--;
    if (!this.poisoned) this.budget.pool.give(this.buf);
  }

  /** A view of [from, from + count) of the file, within this chunk, holding the chunk until released. */
  view(offset: number, count: number): ReadResult {
    const from = offset - this.index * CHUNK_BYTES;
    const to = Math.min(from + count, this.n);
    this.refs++;
    let released = false;
    return {
      data: this.buf.subarray(from, Math.max(from, to)),
      ...(this.attr ? { attr: this.attr } : {}),
      release: () => {
        if (released) return;
        released = true;
        this.unref();
      },
    };
  }
}

/** Sequential read-ahead of one file; owned by its OpenFileCache entry. */
export class ReadAhead {
  private readonly chunks = new Map<number, Chunk>();
  /** Where the last READ ended: a READ starting here (give or take one READ, reordered) is sequential. */
  private lastEnd = -1;
  /** When the last READ came (performance.now()). */
  private lastAt = 0;
  /** The chunk found to hold the end of the file: none after it is read (until cleared). */
  private lastChunk = Infinity;
  /** The chunk the last READ was served from. */
  private at = 0;

  constructor(
    private readonly read: ReadInto,
    private readonly budget: ChunkBudget,
    /** Signal of chunk reads (they outlive the READ that started them); aborted when the file is closed. */
    private readonly signal: AbortSignal,
    /** When given, each chunk also reads the file's attributes (READs check access against them). */
    private readonly stat?: StatFile,
  ) {}

  /**
   * The bytes of a sequential READ when the chunk holding them is already in memory, now,
   * without waiting (the RPC layer's synchronous path); undefined whenever take() would do
   * anything else. Call prefetch() once the reply is written.
   */
  takeNow(offset: number, count: number): ReadResult | undefined {
    const k = Math.floor(offset / CHUNK_BYTES);
    const now = performance.now();
    if (now - this.lastAt > IDLE_MS || this.lastEnd < 0 || Math.abs(offset - this.lastEnd) > count) return undefined;
    if (Math.floor((offset + count - 1) / CHUNK_BYTES) !== k) return undefined;
    const c = this.chunks.get(k);
    if (!c || c.n < 0 || now - c.born > MAX_AGE_MS || (this.stat && !c.attr)) return undefined;
    if (c.n < CHUNK_BYTES && k < this.lastChunk) return undefined; // take() learns where the file ends
    this.lastAt = now;
    this.lastEnd = offset + count;
    this.at = k;
    return c.view(offset, count);
  }

  /** Starts reading the chunks after the one last served (up to AHEAD), drops those behind it. */
  prefetch(): void {
    const k = this.at;
    for (const old of this.chunks.keys()) if (old < k) this.drop(old);
    for (let i = k + 1; i <= Math.min(k + AHEAD, this.lastChunk); i++) if (!this.chunks.has(i)) this.start(i);
  }

  /** Whether a READ at `offset` continues this reader's stream (take() would serve it, budget allowing). */
  follows(offset: number, count: number): boolean {
    return performance.now() - this.lastAt <= IDLE_MS && this.lastEnd >= 0 && Math.abs(offset - this.lastEnd) <= count;
  }

  /**
   * The bytes of a sequential READ from a chunk, or undefined when this READ is not served
   * from chunks (random access, a range across two chunks, no chunk budget left): the
   * caller then reads it itself.
   */
  async take(offset: number, count: number): Promise<ReadResult | undefined> {
    const k = Math.floor(offset / CHUNK_BYTES);
    const inOne = Math.floor((offset + count - 1) / CHUNK_BYTES) === k;
    const now = performance.now();
    if (now - this.lastAt > IDLE_MS) this.clear();
    this.lastAt = now;
    // Not offset 0 alone: a client reading only a file's head must not cost it 12 MiB of reads.
    const sequential = this.lastEnd >= 0 && Math.abs(offset - this.lastEnd) <= count;
    this.lastEnd = offset + count;
    if (!sequential || !inOne) {
      this.clear();
      return undefined;
    }
    let c = this.chunks.get(k);
    if (c && now - c.born > MAX_AGE_MS) {
      this.drop(k);
      c = undefined;
    }
    // Chunks behind the reader are not asked for again.
    for (const old of this.chunks.keys()) if (old < k) this.drop(old);
    c ??= this.start(k);
    if (!c) return undefined;
    this.at = k;
    for (let i = k + 1; i <= Math.min(k + AHEAD, this.lastChunk); i++) if (!this.chunks.has(i)) this.start(i);
    await c.ready;
    if (c.n < 0) {
      this.drop(k);
      return undefined; // the read failed: the caller's own read reports why
    }
    if (c.n < CHUNK_BYTES && k < this.lastChunk) {
      // The end of the file: chunks after it hold nothing.
      this.lastChunk = k;
      for (const later of this.chunks.keys()) if (later > k) this.drop(later);
    }
    return c.view(offset, count);
  }

  /** Forgets every chunk (a write, the file closing); buffers return once their replies are sent. */
  clear(): void {
    for (const k of [...this.chunks.keys()]) this.drop(k);
    this.lastChunk = Infinity;
  }

  private start(k: number): Chunk | undefined {
    if (this.budget.live >= this.budget.max) return undefined;
    this.budget.live++;
    const c = new Chunk(k, this.budget.pool.take(), this.budget, this.read, this.stat, this.signal);
    this.chunks.set(k, c);
    return c;
  }

  private drop(k: number): void {
    const c = this.chunks.get(k);
    if (!c) return;
    this.chunks.delete(k);
    // A chunk still being read keeps its buffer until the read settles.
    void c.ready.then(() => c.unref());
  }
}
