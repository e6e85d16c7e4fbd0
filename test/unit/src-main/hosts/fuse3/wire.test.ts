import { describe, expect, it } from 'vitest';
import { DirListings } from '../../../../../src-main/hosts/fuse3/DirListings.ts';
import { NodeTable } from '../../../../../src-main/hosts/fuse3/NodeTable.ts';
import { ATTR_OUT, ENTRY_OUT, FATTR, INIT_OUT, readInitIn, readSetattrIn, validOf, writeAttrOut, writeEntryOut, writeInitOut, writeOpenOut, FOPEN } from '../../../../../src-main/hosts/fuse3/wire.ts';
import { FsError } from '../../../../../src-main/vfs/FsError.ts';
import type { Attr, Vfs } from '../../../../../src-main/vfs/types.ts';

// The kernel's FUSE structs the host reads and writes by hand (<linux/fuse.h>): times with
// exact nanoseconds, entries with their timeouts, SETATTR and INIT as the kernel lays them
// out, and READDIRPLUS pages (fuse_direntplus: 128-byte entry_out, 24-byte dirent head,
// 8-byte aligned).

const attr = (over: Partial<Attr> = {}): Attr => ({
  type: 'file', mode: 0o4755, size: 5_000_000_000, nlink: 2, uid: 65534, gid: 100, ino: 2 ** 40 + 7,
  atime: 1_000_000_000_500, mtime: 1_600_000_000_123.457, ctime: 1_700_000_000_000, ...over,
});

/** `vfs`'s root folder opened as the kernel would, and its pages from `offset` (`size` bytes at most, with attributes when `plus`). */
function opened(vfs: Vfs): { dirs: DirListings; nodes: NodeTable; id: number; page(offset: number, plus?: boolean, size?: number): Promise<Buffer> } {
  const dirs = new DirListings();
  const nodes = new NodeTable();
  const root = nodes.get(1)!;
  const id = dirs.open(vfs, '/', { signal: new AbortController().signal });
  const page = (offset: number, plus = false, size = 4096): Promise<Buffer> => dirs.pageWhenReady(id, root, size, offset, plus, nodes, {}, { attrTimeoutS: 0, entryTimeoutS: 1 });
  return { dirs, nodes, id, page };
}

/** Seconds and nanoseconds at `off` (u64) and `nsOff` (u32) of `b` as exact ns. */
const ns = (b: Buffer, off: number, nsOff: number): bigint => b.readBigInt64LE(off) * 1_000_000_000n + BigInt(b.readUInt32LE(nsOff));

describe('FUSE wire structs', () => {
  it('writes fuse_attr with exact nanoseconds, the type bits and set-id bits of the mode', () => {
    const b = Buffer.alloc(ATTR_OUT);
    writeAttrOut(b, 0, attr({ mtimeNs: 1_600_000_000_123_456_789n }), {}, 1.25);
    // attr_valid 1 s + 250,000,000 ns, then struct fuse_attr at 16.
    expect([b.readBigUInt64LE(0), b.readUInt32LE(8)]).toEqual([1n, 250_000_000]);
    const a = 16;
    expect(Number(b.readBigUInt64LE(a))).toBe(2 ** 40 + 7);
    expect(Number(b.readBigUInt64LE(a + 8))).toBe(5_000_000_000);
    expect(ns(b, a + 32, a + 52)).toBe(1_600_000_000_123_456_789n);
    expect(ns(b, a + 24, a + 48)).toBe(1_000_000_000_500_000_000n);
    expect(b.readUInt32LE(a + 60)).toBe(0o100000 | 0o4755);
    expect([b.readUInt32LE(a + 64), b.readUInt32LE(a + 68), b.readUInt32LE(a + 72)]).toEqual([2, 65534, 100]);
  });

  it('keeps the sign of a time before 1970, given in ns or in ms, and shows --uid/--gid owners', () => {
    const b = Buffer.alloc(ENTRY_OUT);
    writeEntryOut(b, 0, 9, attr({ atime: -1500, mtime: -1.5, mtimeNs: -1_500_000n }), { uid: 1000, gid: 1000 }, { attrTimeoutS: 0, entryTimeoutS: 1 });
    const a = 40;
    expect([ns(b, a + 24, a + 48), ns(b, a + 32, a + 52)]).toEqual([-1_500_000_000n, -1_500_000n]);
    expect([b.readUInt32LE(a + 68), b.readUInt32LE(a + 72)]).toEqual([1000, 1000]);
  });

  it('rounds ms times to whole microseconds, up into the next second too', () => {
    const b = Buffer.alloc(ATTR_OUT);
    writeAttrOut(b, 0, attr({ mtime: 1_600_000_000_123.457 }), {}, 0);
    expect(ns(b, 16 + 32, 16 + 52)).toBe(1_600_000_000_123_457_000n);
    writeAttrOut(b, 0, attr({ mtime: 1_600_000_001_000 - 0.0004 }), {}, 0);
    expect(ns(b, 16 + 32, 16 + 52)).toBe(1_600_000_001_000_000_000n);
  });

  it('gives a listed entry the same times as a lookup', async () => {
    const a = attr({ ino: 11, mtime: 1_600_000_001_000 - 0.0004 }); // 0.4 µs before a whole second
    const e = Buffer.alloc(ENTRY_OUT);
    writeEntryOut(e, 0, 5, a, {}, { attrTimeoutS: 0, entryTimeoutS: 1 });
    const plus = await opened({ readdir: async function* () { yield { name: 'a', attr: a }; } } as unknown as Vfs).page(2, true);
    // fuse_entry_out (40 bytes of ids and timeouts) then fuse_attr: mtime seconds at 32, mtimensec at 52.
    expect(ns(plus, 40 + 32, 40 + 52)).toBe(ns(e, 40 + 32, 40 + 52));
  });

  it('writes fuse_entry_out with the node id and both timeouts, and a negative entry with none', () => {
    const b = Buffer.alloc(ENTRY_OUT);
    writeEntryOut(b, 0, 42, attr(), {}, { attrTimeoutS: 0, entryTimeoutS: 1.5 });
    expect(b.readBigUInt64LE(0)).toBe(42n);
    expect([b.readBigUInt64LE(16), b.readUInt32LE(32)]).toEqual([1n, 500_000_000]);
    expect([b.readBigUInt64LE(24), b.readUInt32LE(36)]).toEqual([0n, 0]);
    writeEntryOut(b, 0, 0, undefined, {}, { attrTimeoutS: 1, entryTimeoutS: 1 });
    expect(b.subarray(40).every((x) => x === 0)).toBe(true);
    expect(validOf(-1)).toEqual([0, 0]);
  });

  it('reads a SETATTR: which fields, the file handle, and times exact to the nanosecond', () => {
    const b = Buffer.alloc(88);
    b.writeUInt32LE(FATTR.MODE | FATTR.MTIME | FATTR.FH, 0);
    b.writeBigUInt64LE(7n, 8);
    b.writeBigInt64LE(1_600_000_000n, 40);
    b.writeUInt32LE(123_456_789, 60);
    b.writeUInt32LE(0o104777, 68);
    const s = readSetattrIn(b, 0);
    expect(s).toMatchObject({ valid: FATTR.MODE | FATTR.MTIME | FATTR.FH, fh: 7, mode: 0o104777, mtimeNs: 1_600_000_000_123_456_789n, atimeNs: 0n });
    b.writeUInt32LE(FATTR.SIZE, 0);
    expect(readSetattrIn(b, 0).fh).toBe(0);
  });

  it('answers INIT with the version, flags and sizes where the kernel reads them', () => {
    const i = Buffer.alloc(64);
    i.writeUInt32LE(7, 0);
    i.writeUInt32LE(45, 4);
    i.writeUInt32LE(1 << 30, 12);
    i.writeUInt32LE(0x20, 16);
    expect(readInitIn(i, 0, 64)).toEqual({ major: 7, minor: 45, maxReadahead: 0, flags: 1 << 30, flags2: 0x20 });
    // flags2 only counts when the kernel set INIT_EXT
    i.writeUInt32LE(0, 12);
    expect(readInitIn(i, 0, 64).flags2).toBe(0);
    const o = Buffer.alloc(INIT_OUT);
    writeInitOut(o, 0, { minor: 40, maxReadahead: 131072, flags: 3, flags2: 0x20, maxWrite: 1 << 20, maxPages: 256, maxStackDepth: 1 });
    expect([o.readUInt32LE(0), o.readUInt32LE(4), o.readUInt32LE(8), o.readUInt32LE(12)]).toEqual([7, 40, 131072, 3]);
    expect([o.readUInt32LE(20), o.readUInt32LE(24), o.readUInt16LE(28), o.readUInt32LE(32), o.readUInt32LE(36)]).toEqual([1 << 20, 1, 256, 0x20, 1]);
  });

  it('writes fuse_open_out with its flags and backing id', () => {
    const b = Buffer.alloc(16);
    writeOpenOut(b, 0, { fh: 3, flags: FOPEN.PASSTHROUGH, backingId: 5 });
    expect([b.readBigUInt64LE(0), b.readUInt32LE(8), b.readInt32LE(12)]).toEqual([3n, 0x80, 5]);
  });

  it('pages a listing in the kernel format, counting a lookup per entry only with plus', async () => {
    const entries = [{ name: 'a', attr: attr({ ino: 11 }) }, { name: 'long-name.txt', attr: attr({ type: 'dir', ino: 12 }) }];
    const { nodes, id, page } = opened({ readdir: async function* () { yield* entries; } } as unknown as Vfs);
    const plain = await page(0);
    // ".", "..", "a" (24+1 → 32), "long-name.txt" (24+13 → 40)
    expect(plain.length).toBe(32 + 32 + 32 + 40);
    // The third entry's offset: the snapshot's id times 2^24, plus its index + 1.
    expect(plain.readBigUInt64LE(64 + 8)).toBe(BigInt(id) * 0x100_0000n + 3n);
    expect(plain.subarray(64 + 24, 64 + 25).toString()).toBe('a');
    expect(nodes.size).toBe(1);
    const plus = await page(2, true);
    expect(plus.length).toBe(160 + 168);
    const aNode = nodes.remember('/a', 11);
    expect(aNode.lookups).toBe(2);
    expect(plus.readBigUInt64LE(0)).toBe(BigInt(aNode.id));
    expect(plus.readBigUInt64LE(16)).toBe(1n); // entry_valid seconds
    // A page too small for the next entry ends before it; the kernel asks again from there.
    expect((await page(2, true, 200)).length).toBe(160);
  });

  it('finds a snapshot by the offset alone, and lists again when it is gone (no OPENDIR)', async () => {
    let listed = 0;
    const vfs = { readdir: async function* () { listed++; yield { name: 'a', attr: attr() }; } } as unknown as Vfs;
    const dirs = new DirListings();
    const first = dirs.at(vfs, '/', 0, { signal: new AbortController().signal });
    expect([first.index, listed]).toEqual([0, 1]);
    const again = dirs.at(vfs, '/', first.id * 0x100_0000 + 2, { signal: new AbortController().signal });
    expect([again.id, again.index, listed]).toEqual([first.id, 2, 1]);
    dirs.close(first.id);
    const relisted = dirs.at(vfs, '/', first.id * 0x100_0000 + 2, { signal: new AbortController().signal });
    expect([relisted.index, listed]).toEqual([2, 2]);
    expect(relisted.id).not.toBe(first.id);
  });

  it('answers a page as soon as its entries arrive, and the end of the folder only once the listing is whole', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const vfs = {
      readdirBatches: async function* () {
        yield [{ name: 'a', attr: attr({ ino: 11 }) }];
        await gate;
        yield [{ name: 'b', attr: attr({ ino: 12 }) }];
      },
    } as unknown as Vfs;
    const { page } = opened(vfs);
    // ".", "..", "a" while "b" is still being listed
    expect((await page(0)).length).toBe(96);
    let next: Buffer | undefined;
    const waiting = page(3).then((b) => (next = b));
    await new Promise((r) => setTimeout(r, 10));
    expect(next).toBeUndefined();
    open();
    await waiting;
    expect(next!.subarray(24, 25).toString()).toBe('b');
    // past the last entry of a whole listing: the empty page that ends the folder
    expect((await page(4)).length).toBe(0);
  });

  it('fails every later page of a listing that failed midway, never ending the folder early', async () => {
    const vfs = {
      readdirBatches: async function* () {
        yield [{ name: 'a', attr: attr() }];
        await new Promise((r) => setTimeout(r, 5));
        throw new FsError('IO', 'child block missing');
      },
    } as unknown as Vfs;
    const { dirs, page } = opened(vfs);
    expect((await page(0)).length).toBe(96);
    await expect(page(3)).rejects.toMatchObject({ kind: 'IO' });
    await expect(page(0)).rejects.toMatchObject({ kind: 'IO' });
    // OPENDIR (kernels without zero-message opendir) reports a listing that fails at once
    const bad = { readdirBatches: async function* () { throw new FsError('NotPermitted', 'no'); } } as unknown as Vfs; // eslint-disable-line require-yield
    await expect(dirs.ready(dirs.open(bad, '/', { signal: new AbortController().signal }))).rejects.toMatchObject({ kind: 'NotPermitted' });
  });

  it('stops the guest listing when the kernel closes the folder before its end', async () => {
    let aborted = false;
    const vfs = {
      readdirBatches: async function* (_p: string, o: { signal: AbortSignal }) {
        yield [{ name: 'a', attr: attr() }];
        await new Promise<void>((r) => o.signal.addEventListener('abort', () => r()));
        aborted = true;
      },
    } as unknown as Vfs;
    const dirs = new DirListings();
    const id = dirs.open(vfs, '/', { signal: new AbortController().signal });
    await dirs.ready(id);
    dirs.close(id);
    await new Promise((r) => setTimeout(r, 0));
    expect(aborted).toBe(true);
  });
});
