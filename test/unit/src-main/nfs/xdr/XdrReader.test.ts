import { describe, expect, it } from 'vitest';
import { XdrError } from '../../../../../src-main/nfs/xdr/XdrError.ts';
import { XdrReader } from '../../../../../src-main/nfs/xdr/XdrReader.ts';
import { XdrWriter } from '../../../../../src-main/nfs/xdr/XdrWriter.ts';

describe('XdrReader / XdrWriter (RFC 4506)', () => {
  it('round-trips every item type big-endian and 4-byte aligned', () => {
    const w = new XdrWriter(8);
    w.uint32(0xdeadbeef).int32(-2).uint64(0x0102030405060708n).bool(true).string('héllo').opaque(Buffer.from([1, 2, 3])).fixedOpaque(Buffer.from([9]));
    const buf = w.toBuffer();
    expect(buf.subarray(0, 4).toString('hex')).toBe('deadbeef');
    expect(buf.subarray(8, 16).toString('hex')).toBe('0102030405060708');
    expect(buf.length % 4).toBe(0);
    const r = new XdrReader(buf);
    expect(r.uint32()).toBe(0xdeadbeef);
    expect(r.int32()).toBe(-2);
    expect(r.uint64()).toBe(0x0102030405060708n);
    expect(r.bool()).toBe(true);
    expect(r.string(100)).toBe('héllo');
    expect([...r.opaque(10)]).toEqual([1, 2, 3]);
    expect([...r.fixedOpaque(1)]).toEqual([9]);
    r.end();
  });

  it('carries a string\'s bytes that are not UTF-8 both ways (names: byteNames.ts), U+FFFD and ASCII as before', () => {
    const latin1 = Buffer.from('00000004636166e9', 'hex'); // "caf\xe9"
    const r = new XdrReader(Buffer.concat([latin1, Buffer.from('00000004636166e8', 'hex')]));
    const [e9, e8] = [r.string(255), r.string(255)];
    expect([e9, e8]).toEqual(['caf\udce9', 'caf\udce8']);
    expect(new XdrWriter().string(e9).toBuffer()).toEqual(latin1);
    for (const s of ['caf\ufffd', 'plain', 'héllo-名前', 'x\udcff'.repeat(2000), 'a\udc80\u00e9\ud83d\ude00']) {
      const b = new XdrWriter().string(s).toBuffer();
      expect(new XdrReader(b).string(10_000), JSON.stringify(s.slice(0, 20))).toBe(s);
    }
    expect(new XdrWriter().string('caf\ufffd').toBuffer().toString('hex')).toBe('00000006636166efbfbd0000');
    // A string no bytes spell goes as Node writes it (U+FFFD), rather than throwing mid-reply.
    expect(new XdrWriter().string('x\ud800').toBuffer().toString('hex')).toBe('0000000478efbfbd');
  });

  it('pads opaques with zero bytes', () => {
    const buf = new XdrWriter().opaque(Buffer.from([0xff])).toBuffer();
    expect(buf.toString('hex')).toBe('00000001ff000000');
  });

  it('keeps large opaques as their own chunk (no copy) and counts them in the length', () => {
    const big = Buffer.alloc(100_000, 7);
    const w = new XdrWriter();
    w.uint32(1).opaque(big).uint32(2);
    const chunks = w.chunksOut();
    expect(chunks.some((c) => c.buffer === big.buffer)).toBe(true);
    expect(chunks.reduce((n, c) => n + c.length, 0)).toBe(4 + 4 + 100_000 + 4);
    const r = new XdrReader(Buffer.concat(chunks));
    expect(r.uint32()).toBe(1);
    expect(r.opaque(200_000).equals(big)).toBe(true);
    expect(r.uint32()).toBe(2);
  });

  it('throws XdrError on truncation instead of reading past the end', () => {
    expect(() => new XdrReader(Buffer.alloc(3)).uint32()).toThrow(XdrError);
    expect(() => new XdrReader(Buffer.alloc(7)).uint64()).toThrow(XdrError);
    const lying = new XdrWriter().uint32(100).toBuffer();
    expect(() => new XdrReader(lying).opaque(1000)).toThrow(/truncated/);
    const unpadded = Buffer.from('0000000261', 'hex');
    expect(() => new XdrReader(unpadded).opaque(10)).toThrow(XdrError);
  });

  it('enforces declared bounds on opaques, strings and array counts', () => {
    const s = new XdrWriter().string('x'.repeat(300)).toBuffer();
    expect(() => new XdrReader(s).string(255)).toThrow(/exceeds its bound 255/);
    const huge = new XdrWriter().uint32(0xffff_ffff).toBuffer();
    expect(() => new XdrReader(huge).count(16)).toThrow(XdrError);
    const lyingCount = new XdrWriter().uint32(10).uint32(1).toBuffer();
    expect(() => new XdrReader(lyingCount).count(100)).toThrow(/cannot fit/);
  });

  it('rejects bools other than 0/1, uint64 beyond 2^53 where a number is needed, and trailing bytes', () => {
    expect(() => new XdrReader(new XdrWriter().uint32(2).toBuffer()).bool()).toThrow(XdrError);
    expect(() => new XdrReader(new XdrWriter().uint64(2n ** 60n).toBuffer()).uint64Number()).toThrow(XdrError);
    const r = new XdrReader(Buffer.alloc(8));
    r.uint32();
    expect(() => r.end()).toThrow(/trailing/);
  });

  it('writes numbers as uint64 without BigInt, and reads them back as numbers or bigints', () => {
    const values = [0, 1, 0xffff_ffff, 2 ** 32, 2 ** 40 + 12345, Number.MAX_SAFE_INTEGER];
    const w = new XdrWriter();
    for (const v of values) w.uint64(v);
    w.uint64(-5).uint64(7.9); // negatives are 0, fractions are dropped
    const b = w.toBuffer();
    const r = new XdrReader(b);
    for (const v of values) expect(r.uint64Number()).toBe(v);
    expect(r.uint64Number()).toBe(0);
    expect(r.uint64Number()).toBe(7);
    const big = new XdrReader(b);
    for (const v of values) expect(big.uint64()).toBe(BigInt(v));
    expect(new XdrReader(new XdrWriter().uint64(2n ** 64n - 1n).toBuffer()).uint64Low53()).toBe(Number.MAX_SAFE_INTEGER);
    expect(new XdrReader(new XdrWriter().uint64(2n ** 53n).toBuffer()).uint64Low53()).toBe(0);
  });
});
