import { nameFromBytes } from '../../sys/byteNames.ts';
import { XdrError } from './XdrError.ts';

// XDR decoding, RFC 4506. Everything is big-endian and 4-byte aligned (§3). Every read
// checks bounds first so a truncated or lying record throws XdrError, never reads past
// the buffer and never allocates from an untrusted count.

/** Reads XDR items from one buffer; subarrays returned by opaque() share its memory. */
export class XdrReader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  /** Bytes not yet read. */
  get remaining(): number {
    return this.buf.length - this.pos;
  }

  /** Current offset into the buffer. */
  get offset(): number {
    return this.pos;
  }

  private need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.buf.length) {
      throw new XdrError(`truncated XDR: expected ${n} bytes for ${what} at offset ${this.pos}, ${this.remaining} left`);
    }
  }

  /** unsigned int, §4.2. */
  uint32(): number {
    this.need(4, 'uint32');
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** int, §4.1. */
  int32(): number {
    this.need(4, 'int32');
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** unsigned hyper, §4.5, as bigint so no precision is lost. */
  uint64(): bigint {
    this.need(8, 'uint64');
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  /** unsigned hyper that must fit a JS number (offsets, sizes): larger values are garbage. */
  uint64Number(): number {
    this.need(8, 'uint64');
    const hi = this.buf.readUInt32BE(this.pos);
    const lo = this.buf.readUInt32BE(this.pos + 4);
    if (hi > 0x1f_ffff) throw new XdrError(`uint64 ${(BigInt(hi) << 32n) | BigInt(lo)} is larger than 2^53`);
    this.pos += 8;
    return hi * 0x1_0000_0000 + lo;
  }

  /** unsigned hyper reduced to its low 53 bits, as a number (file ids: no BigInt per entry). */
  uint64Low53(): number {
    this.need(8, 'uint64');
    const hi = this.buf.readUInt32BE(this.pos) & 0x1f_ffff;
    const lo = this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    return hi * 0x1_0000_0000 + lo;
  }

  /** Skips n bytes (padded to 4), checking they are there. */
  skip(n: number): void {
    const padded = (n + 3) & ~3;
    this.need(padded, `${n} skipped bytes`);
    this.pos += padded;
  }

  /** bool, §4.4: only 0 and 1 are valid. */
  bool(): boolean {
    const v = this.uint32();
    if (v > 1) throw new XdrError(`expected a bool (0 or 1), got ${v}`);
    return v === 1;
  }

  /** Fixed-length opaque, §4.9 (padded to 4). */
  fixedOpaque(len: number): Buffer {
    const padded = (len + 3) & ~3;
    this.need(padded, `opaque[${len}]`);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += padded;
    return out;
  }

  /** Variable-length opaque, §4.10, refusing lengths over `max`. */
  opaque(max: number): Buffer {
    const len = this.uint32();
    if (len > max) throw new XdrError(`opaque length ${len} exceeds its bound ${max}`);
    return this.fixedOpaque(len);
  }

  /**
   * string, §4.11, refusing byte lengths over `max`. An NFS name or path is bytes, not
   * always UTF-8: each byte that is not UTF-8 is kept as U+DC80..U+DCFF (byteNames.ts), so
   * "caf\xe9" and "caf\xe8" stay two names instead of both becoming "caf\uFFFD".
   */
  string(max: number): string {
    return nameFromBytes(this.opaque(max));
  }

  /** An array count, §4.13, bounded both by `max` and by what the remaining bytes could hold. */
  count(max: number, minItemBytes = 4): number {
    const n = this.uint32();
    if (n > max) throw new XdrError(`array count ${n} exceeds its bound ${max}`);
    if (n * minItemBytes > this.remaining) throw new XdrError(`array count ${n} cannot fit in ${this.remaining} bytes`);
    return n;
  }

  /** Fails unless the whole buffer was consumed (trailing garbage is an error for RPC args). */
  end(): void {
    if (this.remaining !== 0) throw new XdrError(`${this.remaining} unexpected trailing bytes`);
  }
}
