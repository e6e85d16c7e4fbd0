// Large I/O buffers, reused. A fresh 1 MiB Buffer per READ costs the kernel a page fault
// per 4 KiB the first time it is written: measured here, that is ~6× the CPU of the copy
// itself. The server gets READ buffers back once their reply is on the socket; the
// client gets reply buffers back once the data has been copied out.

/** Free buffers kept by default; beyond this they are left to the garbage collector. */
const MAX_FREE = 16;

/** A pool of equal-sized buffers; owned by one NFS server or one RPC client. */
export class BufferPool {
  private readonly free: Buffer[] = [];
  private readonly mine = new WeakSet<ArrayBufferLike>();

  constructor(
    readonly size: number,
    /** Free buffers kept at most. */
    private readonly maxFree = MAX_FREE,
  ) {}

  /** A buffer of `size` bytes (contents undefined). */
  take(): Buffer {
    const b = this.free.pop();
    if (b) return b;
    const fresh = Buffer.allocUnsafeSlow(this.size);
    this.mine.add(fresh.buffer);
    return fresh;
  }

  /** Returns a buffer nothing references any more. */
  give(buf: Buffer): void {
    if (buf.length === this.size && this.free.length < this.maxFree) this.free.push(buf);
  }

  /** Returns the pool buffer a view lies in; views of other memory are ignored. */
  giveBack(view: Uint8Array): void {
    if (this.mine.has(view.buffer)) this.give(Buffer.from(view.buffer, 0, this.size));
  }
}
