import { RecordError } from './RecordDecoder.ts';

// Record marking (RFC 5531 §11) for a socket we read ourselves (net.connect's `onread`).
// Once a fragment header has been seen, the kernel is handed the rest of that fragment's
// own buffer to fill, so a 1 MiB READ reply lands where the caller gets it with no copy
// in JavaScript and no 64 KiB buffer allocated per socket read. Bytes that arrive while
// no fragment body is open (headers, small replies) go through a reused scratch buffer.

/** Below this many bytes left in a fragment, reading into scratch and copying is cheaper. */
const DIRECT_MIN = 16 * 1024;

/** Reassembles records from a socket read through `nextBuffer()` / `received()`. */
export class RecordReceiver {
  private readonly scratch = Buffer.allocUnsafe(64 * 1024);
  private readonly header = Buffer.alloc(4);
  private headerGot = 0;
  private target: Buffer | undefined;
  private filled = 0;
  private last = false;
  private fragments: Buffer[] = [];
  private recordBytes = 0;
  private gaveTarget = false;

  constructor(
    private readonly maxRecord: number,
    private readonly onRecord: (record: Buffer) => void,
    /** Where fragment bodies go (a pool for large replies); a fresh buffer by default. */
    private readonly alloc: (len: number) => Buffer = (len) => Buffer.allocUnsafe(len),
  ) {}

  /** The buffer the next socket read should fill (net.connect `onread.buffer`). */
  nextBuffer(): Buffer {
    const t = this.target;
    if (t && t.length - this.filled >= DIRECT_MIN) {
      this.gaveTarget = true;
      return t.subarray(this.filled);
    }
    this.gaveTarget = false;
    return this.scratch;
  }

  /** Accounts for `n` bytes the socket read into the buffer from nextBuffer(). Throws RecordError. */
  received(n: number): void {
    if (this.gaveTarget) {
      this.filled += n;
      if (this.filled === this.target!.length) this.endFragment();
      return;
    }
    let at = 0;
    while (at < n) {
      if (!this.target) {
        const k = Math.min(4 - this.headerGot, n - at);
        this.scratch.copy(this.header, this.headerGot, at, at + k);
        this.headerGot += k;
        at += k;
        if (this.headerGot < 4) break;
        this.startFragment(this.header.readUInt32BE(0));
        continue;
      }
      const k = Math.min(this.target.length - this.filled, n - at);
      this.scratch.copy(this.target, this.filled, at, at + k);
      this.filled += k;
      at += k;
      if (this.filled === this.target.length) this.endFragment();
    }
  }

  private startFragment(head: number): void {
    this.headerGot = 0;
    this.last = (head & 0x8000_0000) !== 0;
    const len = head & 0x7fff_ffff;
    if (this.recordBytes + len > this.maxRecord) {
      throw new RecordError(`RPC record of at least ${this.recordBytes + len} bytes exceeds the limit of ${this.maxRecord}`);
    }
    this.target = this.alloc(len);
    this.filled = 0;
    if (len === 0) this.endFragment();
  }

  private endFragment(): void {
    const frag = this.target!;
    this.target = undefined;
    this.gaveTarget = false;
    this.fragments.push(frag);
    this.recordBytes += frag.length;
    if (!this.last) return;
    const record = this.fragments.length === 1 ? frag : Buffer.concat(this.fragments, this.recordBytes);
    this.fragments = [];
    this.recordBytes = 0;
    this.onRecord(record);
  }
}
