// Memory for the blocks of a BlockCache, reused instead of allocated per block (issue 11).
// A 256 MiB read is 1,024 fresh 256 KiB buffers otherwise, and V8 frees such buffers only
// in full mark-compact collections once they outlive a scavenge (the FUSE process made
// ~20 of them per 256 MiB, 35-40% of its CPU with the GC threads); taken from here and
// given back on eviction, the same read made none. Safe because no view of a cached block
// leaves its BlockCache: readers copy the bytes out before they await anything again.

/** Buffers at most this small come from Node's own allocator (not worth pooling). */
const SMALL = 16 * 1024;
/** Capacities are rounded up to this step, so blocks of nearly one size share a class. */
const STEP = 16 * 1024;

/** A pool of block buffers by capacity. Owner: one BlockCache. */
export class BlockBuffers {
  private readonly free = new Map<number, Buffer[]>();
  private pooled = 0;
  /** The memory this pool handed out: only it may come back. */
  private readonly ours = new WeakSet<ArrayBufferLike>();

  /** `maxPooled`: bytes kept free at most (more are left to the GC). */
  constructor(private readonly maxPooled = 16 * 1024 * 1024) {}

  /** `size` bytes to fill (contents undefined): a view from 0 of a pooled buffer. */
  readonly take = (size: number): Uint8Array => {
    if (size <= SMALL) return Buffer.allocUnsafe(size);
    const cap = Math.ceil(size / STEP) * STEP;
    const b = this.free.get(cap)?.pop();
    if (b) {
      this.pooled -= cap;
      return b.subarray(0, size);
    }
    const fresh = Buffer.allocUnsafeSlow(cap);
    this.ours.add(fresh.buffer);
    return fresh.subarray(0, size);
  };

  /**
   * Takes back the memory under `bytes` when this pool handed it out; anything else (a
   * buffer a node made itself) is left to the GC. Call once per buffer, when nothing
   * reads it any more.
   */
  give(bytes: Uint8Array): void {
    const ab = bytes.buffer;
    if (!this.ours.has(ab) || this.pooled + ab.byteLength > this.maxPooled) return;
    let list = this.free.get(ab.byteLength);
    if (!list) {
      list = [];
      this.free.set(ab.byteLength, list);
    }
    list.push(Buffer.from(ab, 0, ab.byteLength));
    this.pooled += ab.byteLength;
  }

  /** Forgets every free buffer. */
  clear(): void {
    this.free.clear();
    this.pooled = 0;
  }
}
