// Record marking for RPC over TCP, RFC 5531 §11: each record is a sequence of fragments,
// each preceded by a 4-byte header whose top bit marks the last fragment and whose low
// 31 bits give the fragment length.

/** Thrown when the byte stream cannot be framed (record too large); the connection must close. */
export class RecordError extends Error {
  override readonly name = 'RecordError';
}

/** Default bound on one record: a 1 MiB WRITE or READ payload plus headers. */
export const DEFAULT_MAX_RECORD = 1024 * 1024 + 64 * 1024;

/** Splits a TCP byte stream into complete RPC records. */
export class RecordDecoder {
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  private fragments: Buffer[] = [];
  private recordBytes = 0;

  constructor(private readonly maxRecord = DEFAULT_MAX_RECORD) {}

  /** Feeds bytes; returns every record completed by them. Throws RecordError on an oversized record. */
  push(chunk: Buffer): Buffer[] {
    // The usual case: a chunk that is exactly one whole record of one fragment.
    if (this.pendingBytes === 0 && this.recordBytes === 0 && chunk.length >= 4) {
      const head = chunk.readUInt32BE(0);
      const len = head & 0x7fff_ffff;
      if ((head & 0x8000_0000) !== 0 && chunk.length === 4 + len && len <= this.maxRecord) return [chunk.subarray(4)];
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const out: Buffer[] = [];
    for (;;) {
      if (this.pendingBytes < 4) break;
      const head = this.peekHeader();
      const last = (head & 0x8000_0000) !== 0;
      const len = head & 0x7fff_ffff;
      if (this.recordBytes + len > this.maxRecord) {
        throw new RecordError(`RPC record of at least ${this.recordBytes + len} bytes exceeds the limit of ${this.maxRecord}`);
      }
      if (this.pendingBytes < 4 + len) break;
      this.take(4);
      const frag = this.take(len);
      this.fragments.push(frag);
      this.recordBytes += len;
      if (last) {
        out.push(this.fragments.length === 1 ? this.fragments[0]! : Buffer.concat(this.fragments, this.recordBytes));
        this.fragments = [];
        this.recordBytes = 0;
      }
    }
    return out;
  }

  private peekHeader(): number {
    const first = this.pending[0]!;
    if (first.length >= 4) return first.readUInt32BE(0);
    return this.peekBytes(4).readUInt32BE(0);
  }

  private peekBytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let got = 0;
    for (const b of this.pending) {
      const k = Math.min(n - got, b.length);
      b.copy(out, got, 0, k);
      got += k;
      if (got === n) break;
    }
    return out;
  }

  /** Removes n bytes from the front, without copying when they lie in one chunk. */
  private take(n: number): Buffer {
    this.pendingBytes -= n;
    const first = this.pending[0];
    if (first && first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.pending.shift();
      else this.pending[0] = first.subarray(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      const b = this.pending[0]!;
      const k = Math.min(n - got, b.length);
      b.copy(out, got, 0, k);
      got += k;
      if (k === b.length) this.pending.shift();
      else this.pending[0] = b.subarray(k);
    }
    return out;
  }
}

/** Frames a record as one last fragment: returns the chunks to write, header first. */
export function frameRecord(chunks: Buffer[]): Buffer[] {
  let len = 0;
  for (const c of chunks) len += c.length;
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE((0x8000_0000 | len) >>> 0, 0);
  return [head, ...chunks];
}
