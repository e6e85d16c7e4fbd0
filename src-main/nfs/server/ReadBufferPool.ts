// READ buffers, reused. A fresh 1 MiB Buffer per READ costs the kernel a page fault per
// 4 KiB the first time it is written: measured here, that is ~6× the CPU of the copy
// itself. Buffers come back once their reply has been handed to the socket.

/** Free buffers kept; beyond this they are left to the garbage collector. */
const MAX_FREE = 16;

/** A pool of equal-sized buffers; owned by one NFS server. */
export class ReadBufferPool {
  private readonly free: Buffer[] = [];

  constructor(readonly size: number) {}

  /** A buffer of `size` bytes (contents undefined). */
  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  /** Returns a buffer nothing references any more. */
  give(buf: Buffer): void {
    if (buf.length === this.size && this.free.length < MAX_FREE) this.free.push(buf);
  }
}
