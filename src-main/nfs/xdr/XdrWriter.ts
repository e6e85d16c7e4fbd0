import { bytesOfName, hasRawBytes } from '../../sys/byteNames.ts';

// XDR encoding, RFC 4506: big-endian, 4-byte aligned. The writer grows one Buffer for
// small items and keeps large opaque payloads (READ data) as separate chunks, so a
// reply can be written with writev straight from the guest's buffer, never copied.

const PAD = Buffer.alloc(4);
/** Opaques at least this large are kept by reference instead of copied. */
const ZERO_COPY_MIN = 4096;

/** Builds an XDR byte sequence as a list of chunks. */
export class XdrWriter {
  private buf: Buffer;
  private pos = 0;
  private start = 0;
  private readonly chunks: Buffer[] = [];
  private chunkBytes = 0;

  constructor(initial = 512) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** Total bytes written so far. */
  get length(): number {
    return this.chunkBytes + (this.pos - this.start);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    // Bytes of the current buffer before `start` belong to pushed chunks: keep them.
    const size = Math.max(this.buf.length * 2, this.pos - this.start + n + 256);
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, this.start, this.pos);
    this.pos -= this.start;
    this.start = 0;
    this.buf = next;
  }

  /** unsigned int, §4.2. */
  uint32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  /** int, §4.1. */
  int32(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v | 0, this.pos);
    this.pos += 4;
    return this;
  }

  /**
   * unsigned hyper, §4.5. Numbers are accepted for sizes/offsets below 2^53 and written
   * as two 32-bit halves: a BigInt per field cost more than the rest of an fattr3.
   */
  uint64(v: bigint | number): this {
    this.ensure(8);
    if (typeof v === 'bigint') this.buf.writeBigUInt64BE(BigInt.asUintN(64, v), this.pos);
    else {
      const n = v > 0 ? Math.floor(v) : 0;
      const hi = Math.floor(n / 0x1_0000_0000);
      this.buf.writeUInt32BE(hi >>> 0, this.pos);
      this.buf.writeUInt32BE((n - hi * 0x1_0000_0000) >>> 0, this.pos + 4);
    }
    this.pos += 8;
    return this;
  }

  /** bool, §4.4. */
  bool(v: boolean): this {
    return this.uint32(v ? 1 : 0);
  }

  /** Fixed-length opaque, §4.9. */
  fixedOpaque(data: Uint8Array): this {
    const len = data.length;
    const pad = (4 - (len & 3)) & 3;
    if (len >= ZERO_COPY_MIN) {
      this.flushChunk();
      this.chunks.push(Buffer.from(data.buffer, data.byteOffset, len));
      this.chunkBytes += len;
      if (pad) this.raw(PAD.subarray(0, pad));
      return this;
    }
    this.ensure(len + pad);
    this.buf.set(data, this.pos);
    this.pos += len;
    if (pad) {
      this.buf.fill(0, this.pos, this.pos + pad);
      this.pos += pad;
    }
    return this;
  }

  /** Variable-length opaque, §4.10. */
  opaque(data: Uint8Array): this {
    this.uint32(data.length);
    return this.fixedOpaque(data);
  }

  /**
   * string, §4.11, encoded as UTF-8 straight into the buffer (no Buffer per string); a name
   * carrying bytes that are not UTF-8 (XdrReader.string, byteNames.ts) as exactly those bytes.
   */
  string(s: string): this {
    const len = Buffer.byteLength(s, 'utf8');
    // Only a string with more bytes than characters can hold one: ASCII names skip the scan.
    if (len !== s.length && hasRawBytes(s)) {
      // A string no bytes spell (no guest reading names from bytes makes one) goes as Node writes it, U+FFFD.
      const bytes = bytesOfName(s);
      if (bytes) return this.opaque(bytes);
    }
    if (len >= ZERO_COPY_MIN) return this.opaque(Buffer.from(s, 'utf8'));
    const pad = (4 - (len & 3)) & 3;
    this.ensure(4 + len + pad);
    this.buf.writeUInt32BE(len, this.pos);
    this.buf.write(s, this.pos + 4, len, 'utf8');
    this.pos += 4 + len;
    if (pad) {
      this.buf.fill(0, this.pos, this.pos + pad);
      this.pos += pad;
    }
    return this;
  }

  /**
   * Appends bytes that are already XDR (a multiple of 4 long, e.g. entries encoded once
   * for many replies); large ones by reference, so they must not change until written.
   */
  encoded(b: Buffer): this {
    if ((b.length & 3) !== 0) throw new RangeError(`encoded XDR must be a multiple of 4 bytes, got ${b.length}`);
    if (b.length >= ZERO_COPY_MIN) {
      this.flushChunk();
      this.chunks.push(b);
      this.chunkBytes += b.length;
    } else this.raw(b);
    return this;
  }

  private raw(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }

  private flushChunk(): void {
    if (this.pos > this.start) {
      this.chunks.push(this.buf.subarray(this.start, this.pos));
      this.chunkBytes += this.pos - this.start;
      this.start = this.pos;
    }
  }

  /** The encoded bytes as chunks (for writev); the writer must not be used afterwards. */
  chunksOut(): Buffer[] {
    this.flushChunk();
    return this.chunks;
  }

  /**
   * The bytes as one RPC record over TCP (RFC 5531 §11), for writev: the first uint32
   * written must have been a placeholder, now filled with the record mark (one last
   * fragment of everything after it). Saves a 4-byte buffer and a write per reply.
   */
  recordOut(): Buffer[] {
    const chunks = this.chunksOut();
    const first = chunks[0];
    if (!first || first.length < 4) throw new RangeError('a record needs its 4-byte mark placeholder first');
    first.writeUInt32BE((0x8000_0000 | (this.chunkBytes - 4)) >>> 0, 0);
    return chunks;
  }

  /** The encoded bytes as one Buffer (copies when there are several chunks). */
  toBuffer(): Buffer {
    const chunks = this.chunksOut();
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }
}
