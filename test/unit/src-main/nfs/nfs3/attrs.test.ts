import { describe, expect, it } from 'vitest';
import { readFattr3, readSattr3, writeFattr3, writeSattr3 } from '../../../../../src-main/nfs/nfs3/attrs.ts';
import { TimeHow } from '../../../../../src-main/nfs/nfs3/constants.ts';
import { XdrReader } from '../../../../../src-main/nfs/xdr/XdrReader.ts';
import { XdrWriter } from '../../../../../src-main/nfs/xdr/XdrWriter.ts';
import type { Attr } from '../../../../../src-main/vfs/types.ts';

const attr: Attr = { type: 'file', mode: 0o640, size: 2 ** 40 + 3, nlink: 2, uid: 1000, gid: 100, ino: 2 ** 50 + 7, mtime: 1_700_000_000_250.5, atime: 1_700_000_000_000, ctime: 1_700_000_001_000 };

describe('fattr3 (RFC 1813 §2.6)', () => {
  it('round-trips attributes and writes each server fsid in full, one after another', () => {
    for (const fsid of [0xfedc_ba98_7654_3210n, 1n, 0xffff_ffff_ffff_ffffn, 0xfedc_ba98_7654_3210n]) {
      const w = new XdrWriter();
      writeFattr3(w, attr, fsid);
      const b = w.toBuffer();
      expect(b.length).toBe(84);
      expect(b.readBigUInt64BE(44)).toBe(fsid); // after type, mode, nlink, uid, gid (4 each), size, used, rdev (8 each)
      const back = readFattr3(new XdrReader(b));
      expect(back).toMatchObject({ type: 'file', mode: 0o640, size: attr.size, nlink: 2, uid: 1000, gid: 100, ino: attr.ino, atime: attr.atime, ctime: attr.ctime });
      expect(back.mtime).toBeCloseTo(attr.mtime, 3);
    }
  });

  it('carries exact nanoseconds both ways where the guest has them (a double in ms cannot)', () => {
    const ns = { atimeNs: 1_704_067_200_123_456_789n, mtimeNs: 1_704_067_201_000_000_001n, ctimeNs: 1_704_067_202_999_999_999n };
    const exact: Attr = { ...attr, ...ns, atime: Number(ns.atimeNs) / 1e6, mtime: Number(ns.mtimeNs) / 1e6, ctime: Number(ns.ctimeNs) / 1e6 };
    const w = new XdrWriter();
    writeFattr3(w, exact, 1n);
    const b = w.toBuffer();
    // nfstime3 seconds and nanoseconds on the wire: atime, mtime, ctime at the end
    expect([b.readUInt32BE(60), b.readUInt32BE(64), b.readUInt32BE(68), b.readUInt32BE(72), b.readUInt32BE(76), b.readUInt32BE(80)]).toEqual([1_704_067_200, 123_456_789, 1_704_067_201, 1, 1_704_067_202, 999_999_999]);
    expect(readFattr3(new XdrReader(b))).toMatchObject(ns);
    // before the epoch: written as the epoch, as a time in ms is
    const early = new XdrWriter();
    writeFattr3(early, { ...exact, mtimeNs: -5n, mtime: -0.000005 }, 1n);
    expect(early.toBuffer().readBigUInt64BE(68)).toBe(0n);
  });

  it("writes `used` from the guest's blocks (a sparse file uses less than its size), else from the size, and reads it back as blocks", () => {
    const used = (a: Attr): bigint => {
      const w = new XdrWriter();
      writeFattr3(w, a, 1n);
      return w.toBuffer().readBigUInt64BE(28); // after type, mode, nlink, uid, gid, size
    };
    expect(used({ ...attr, size: 5 * 2 ** 30, blocks: 8 })).toBe(4096n);
    expect(used({ ...attr, size: 10, blocks: 8 })).toBe(4096n);
    expect(used({ ...attr, size: 10 })).toBe(4096n);
    expect(used({ ...attr, size: 5 * 2 ** 30 })).toBe(5n * 2n ** 30n);
    const w = new XdrWriter();
    writeFattr3(w, { ...attr, size: 5 * 2 ** 30, blocks: 24 }, 1n);
    expect(readFattr3(new XdrReader(w.toBuffer())).blocks).toBe(24);
    // A server's `used` past 2^53 (nonsense) reads as the size's blocks, not as an error.
    const b = w.toBuffer();
    b.writeBigUInt64BE(2n ** 63n, 28);
    expect(readFattr3(new XdrReader(b)).blocks).toBe((5 * 2 ** 30) / 512);
  });

  it('writes a time in ms rounded to whole microseconds, carrying into the next second', () => {
    const w = new XdrWriter();
    writeFattr3(w, { ...attr, atime: 1_999.999_999_9, mtime: 86_400_123.456_7, ctime: Number.NaN }, 1n);
    const b = w.toBuffer();
    expect([b.readUInt32BE(60), b.readUInt32BE(64), b.readUInt32BE(68), b.readUInt32BE(72), b.readUInt32BE(76), b.readUInt32BE(80)]).toEqual([2, 0, 86_400, 123_457_000, 0, 0]);
  });

  it('writes names as XDR strings straight into the buffer, multi-byte and long ones too', () => {
    for (const name of ['', 'a', 'abcd', 'ünïcødé-名前', 'x'.repeat(5000)]) {
      const b = new XdrWriter(8).string(name).uint32(7).toBuffer();
      const r = new XdrReader(b);
      expect(r.string(10_000)).toBe(name);
      expect(r.uint32()).toBe(7);
      expect(b.length % 4).toBe(0);
    }
  });
});

describe('sattr3 (RFC 1813 §2.6)', () => {
  it('keeps a client time to the nanosecond, and the server time as "now"', () => {
    const w = new XdrWriter();
    w.bool(false).bool(false).bool(false).bool(false); // mode, uid, gid, size unchanged
    w.uint32(TimeHow.SET_TO_SERVER_TIME);
    w.uint32(TimeHow.SET_TO_CLIENT_TIME).uint32(1_700_000_000).uint32(123_456_789);
    const s = readSattr3(new XdrReader(w.toBuffer()));
    expect(s.mtimeNs).toBe(1_700_000_000_123_456_789n);
    expect(s.mtime).toBeCloseTo(1_700_000_000_123.457, 3);
    expect(s.atimeNs).toBeUndefined();
    expect(s.atime).toBeGreaterThan(0);
    expect(s.timesNow).toBeUndefined(); // an explicit time rides along: not a plain "now"
  });

  it('sends a client time to the nanosecond, and "now" as the server\'s time', () => {
    const w = new XdrWriter();
    writeSattr3(w, { atime: 1_600_000_000_123.4568, atimeNs: 1_600_000_000_123_456_789n, mtime: 1_600_000_001_000 });
    const back = readSattr3(new XdrReader(w.toBuffer()));
    expect({ a: back.atimeNs, m: back.mtimeNs }).toEqual({ a: 1_600_000_000_123_456_789n, m: 1_600_000_001_000_000_000n });
    const now = new XdrWriter();
    writeSattr3(now, { mtime: Date.now(), timesNow: true });
    const b = now.toBuffer();
    expect([b.readUInt32BE(16), b.readUInt32BE(20), b.length]).toEqual([TimeHow.DONT_CHANGE, TimeHow.SET_TO_SERVER_TIME, 24]);
    expect(readSattr3(new XdrReader(b)).timesNow).toBe(true);
  });
});
