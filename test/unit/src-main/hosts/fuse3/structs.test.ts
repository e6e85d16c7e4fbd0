import { describe, expect, it } from 'vitest';
import { DirListings } from '../../../../../src-main/hosts/fuse3/DirListings.ts';
import { NodeTable } from '../../../../../src-main/hosts/fuse3/NodeTable.ts';
import { ENTRY_SIZE, readStat, STAT_SIZE, writeEntry, writeStat } from '../../../../../src-main/hosts/fuse3/structs.ts';
import { FsError } from '../../../../../src-main/vfs/FsError.ts';
import type { Attr, Vfs } from '../../../../../src-main/vfs/types.ts';

// The C structs the libfuse 3 host writes by hand: struct stat round trips with exact
// nanoseconds, fuse_entry_param carries its timeouts, and READDIRPLUS pages follow
// <linux/fuse.h> (fuse_direntplus: 128-byte entry_out, 24-byte dirent head, 8-byte aligned).

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

describe('libfuse 3 structs', () => {
  it('writes struct stat that reads back the same, nanoseconds exact', () => {
    const b = Buffer.alloc(STAT_SIZE);
    writeStat(b, 0, attr({ mtimeNs: 1_600_000_000_123_456_789n }), {});
    const st = readStat(new DataView(b.buffer, b.byteOffset, b.length));
    expect(st).toEqual({ mode: 0o100000 | 0o4755, uid: 65534, gid: 100, size: 5_000_000_000, atimeNs: 1_000_000_000_500_000_000n, mtimeNs: 1_600_000_000_123_456_789n });
  });

  it('keeps the sign of a time before 1970, given in ns or in ms', () => {
    const b = Buffer.alloc(STAT_SIZE);
    writeStat(b, 0, attr({ atime: -1500, mtime: -1.5, mtimeNs: -1_500_000n }), {});
    const st = readStat(new DataView(b.buffer, b.byteOffset, b.length));
    expect([st.atimeNs, st.mtimeNs]).toEqual([-1_500_000_000n, -1_500_000n]);
  });

  it('rounds ms times to whole microseconds and shows --uid/--gid owners', () => {
    const b = Buffer.alloc(STAT_SIZE);
    writeStat(b, 0, attr({ mtime: 1_600_000_000_123.457 }), { uid: 1000, gid: 1000 });
    const st = readStat(new DataView(b.buffer, b.byteOffset, b.length));
    expect(st.mtimeNs).toBe(1_600_000_000_123_457_000n);
    expect([st.uid, st.gid]).toEqual([1000, 1000]);
  });

  it('gives a listed entry the same times as its struct stat, a ms time rounded up into the next second too', async () => {
    const a = attr({ ino: 11, mtime: 1_600_000_001_000 - 0.0004 }); // 0.4 µs before a whole second
    const b = Buffer.alloc(STAT_SIZE);
    writeStat(b, 0, a, {});
    const st = readStat(new DataView(b.buffer, b.byteOffset, b.length));
    expect(st.mtimeNs).toBe(1_600_000_001_000_000_000n);
    const plus = await opened({ readdir: async function* () { yield { name: 'a', attr: a }; } } as unknown as Vfs).page(2, true);
    // fuse_entry_out (40 bytes of ids and timeouts) then fuse_attr: mtime seconds at 32, mtimensec at 52.
    expect(BigInt(plus.readBigUInt64LE(40 + 32)) * 1_000_000_000n + BigInt(plus.readUInt32LE(40 + 52))).toBe(st.mtimeNs);
  });

  it('writes fuse_entry_param with the node id and both timeouts', () => {
    const b = Buffer.alloc(ENTRY_SIZE);
    writeEntry(b, 42, attr(), {}, 0, 1.5);
    expect(b.readBigUInt64LE(0)).toBe(42n);
    expect(b.readDoubleLE(16 + STAT_SIZE)).toBe(0);
    expect(b.readDoubleLE(24 + STAT_SIZE)).toBe(1.5);
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
    const aNode = nodes.remember('/a');
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
