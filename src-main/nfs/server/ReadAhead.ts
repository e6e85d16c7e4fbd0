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

/** Bytes for one READ; `release` returns a pooled buffer once the reply is sent. */
export interface ReadResult {
  data: Uint8Array;
  release?: () => void;
}

/** Reads `buf.length` bytes at `offset` into `buf` (fewer only at end of file). */
export type ReadInto = (buf: Buffer, offset: number, signal: AbortSignal) => Promise<number>;

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
  /** The read failed: the buffer may still be written by it later, so it is never reused. */
  private poisoned = false;

  constructor(
    readonly index: number,
    private readonly buf: Buffer,
    private readonly budget: ChunkBudget,
    read: ReadInto,
    signal: AbortSignal,
  ) {
    this.ready = read(buf, index * CHUNK_BYTES, signal).then(
      (n) => {
        this.n = n;
      },
      () => {
        this.n = -1;
        this.poisoned = true;
      },
    );
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
  /** Where the last READ ended: a READ starting here is sequential. */
  private lastEnd = -1;

  constructor(
    private readonly read: ReadInto,
    private readonly budget: ChunkBudget,
    /** Signal of chunk reads (they outlive the READ that started them); aborted when the file is closed. */
    private readonly signal: AbortSignal,
  ) {}

  /**
   * The bytes of a sequential READ from a chunk, or undefined when this READ is not served
   * from chunks (random access, a range across two chunks, no chunk budget left): the
   * caller then reads it itself.
   */
  async take(offset: number, count: number): Promise<ReadResult | undefined> {
    const k = Math.floor(offset / CHUNK_BYTES);
    const inOne = Math.floor((offset + count - 1) / CHUNK_BYTES) === k;
    let c = this.chunks.get(k);
    // Not offset 0 alone: a client reading only a file's head must not cost it 12 MiB of reads.
    const sequential = c !== undefined || offset === this.lastEnd;
    this.lastEnd = offset + count;
    if (!sequential || !inOne) {
      this.clear();
      return undefined;
    }
    if (c && performance.now() - c.born > MAX_AGE_MS) {
      this.drop(k);
      c = undefined;
    }
    // Chunks behind the reader are not asked for again.
    for (const old of this.chunks.keys()) if (old < k) this.drop(old);
    c ??= this.start(k);
    if (!c) return undefined;
    for (let i = k + 1; i <= k + AHEAD; i++) if (!this.chunks.has(i)) this.start(i);
    await c.ready;
    if (c.n < 0) {
      this.drop(k);
      return undefined; // the read failed: the caller's own read reports why
    }
    if (c.n < CHUNK_BYTES) for (const later of this.chunks.keys()) if (later > k) this.drop(later); // end of file
    return c.view(offset, count);
  }

  /** Forgets every chunk (a write, the file closing); buffers return once their replies are sent. */
  clear(): void {
    for (const k of [...this.chunks.keys()]) this.drop(k);
  }

  private start(k: number): Chunk | undefined {
    if (this.budget.live >= this.budget.max) return undefined;
    this.budget.live++;
    const c = new Chunk(k, this.budget.pool.take(), this.budget, this.read, this.signal);
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
