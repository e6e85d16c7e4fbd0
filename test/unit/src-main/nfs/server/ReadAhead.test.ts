import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BufferPool } from '../../../../../src-main/nfs/rpc/BufferPool.ts';
import { CHUNK_BYTES, type ChunkBudget, ReadAhead } from '../../../../../src-main/nfs/server/ReadAhead.ts';
import type { Attr } from '../../../../../src-main/vfs/types.ts';

const MiB = 1 << 20;

/** A file in memory whose bytes can change; counts the reads that reach it. */
function file(size: number, fill: number) {
  const f = { data: Buffer.alloc(size, fill), reads: [] as number[] };
  const read = async (buf: Buffer, at: number): Promise<number> => {
    f.reads.push(at);
    const n = Math.max(0, Math.min(buf.length, f.data.length - at));
    f.data.copy(buf, 0, at, at + n);
    return n;
  };
  return { f, read };
}

function budget(max = 8): ChunkBudget {
  return { pool: new BufferPool(CHUNK_BYTES, 2), live: 0, max };
}

describe('ReadAhead: sequential READs from chunks read ahead', () => {
  // The clock stands still unless a test moves it: a loaded machine must not turn two
  // READs into "a pause" (IDLE_MS) between them.
  beforeEach(() => vi.useFakeTimers({ toFake: ['performance'] }));
  afterEach(() => vi.useRealTimers());

  it('serves a sequential reader from chunks, one guest read per chunk, with the right bytes and end of file', async () => {
    const { f, read } = file(10 * MiB + 123, 7);
    f.data.writeUInt32BE(0xdeadbeef, 5 * MiB); // a marker to find in the right READ
    const b = budget();
    const ra = new ReadAhead(read, b, new AbortController().signal);
    // The first READ is not known to be sequential: the caller reads it itself.
    expect(await ra.take(0, MiB)).toBeUndefined();
    const seen: number[] = [];
    let pos = MiB;
    for (;;) {
      const got = await ra.take(pos, MiB);
      expect(got).toBeDefined();
      if (pos === 5 * MiB) expect(Buffer.from(got!.data).readUInt32BE(0)).toBe(0xdeadbeef);
      seen.push(got!.data.length);
      got!.release!();
      pos += got!.data.length;
      if (got!.data.length < MiB) break;
    }
    expect(pos).toBe(10 * MiB + 123);
    expect(seen.at(-1)).toBe(123);
    // chunks 0, 1, 2 (and nothing read twice, nothing read past the end but the look-ahead's)
    expect(new Set(f.reads)).toEqual(new Set([0, CHUNK_BYTES, 2 * CHUNK_BYTES, 3 * CHUNK_BYTES, 4 * CHUNK_BYTES].filter((x) => x <= 4 * CHUNK_BYTES)));
    expect(f.reads.length).toBe(new Set(f.reads).size);
    ra.clear();
    await vi.waitFor(() => expect(b.live).toBe(0));
  });

  it('answers random READs with undefined (the caller reads them itself)', async () => {
    const { read } = file(20 * MiB, 1);
    const ra = new ReadAhead(read, budget(), new AbortController().signal);
    expect(await ra.take(0, MiB)).toBeUndefined();
    expect(await ra.take(9 * MiB, MiB)).toBeUndefined();
    expect(await ra.take(3 * MiB, 4096)).toBeUndefined();
  });

  it('never hands a later reader bytes read ahead before the file changed (a pause ends a stream)', async () => {
    const { f, read } = file(8 * MiB, 1);
    const ra = new ReadAhead(read, budget(), new AbortController().signal);
    await ra.take(0, MiB);
    (await ra.take(MiB, MiB))!.release!();
    (await ra.take(2 * MiB, MiB))!.release!(); // chunk 0 and the next ones are in memory now
    f.data.fill(2); // the file changes outside
    vi.advanceTimersByTime(150);
    // A new copy starting where the last one stopped (or anywhere) reads afresh.
    const again = await ra.take(3 * MiB, MiB);
    expect(again === undefined || Buffer.from(again.data).every((x) => x === 2)).toBe(true);
    again?.release?.();
    const next = (await ra.take(4 * MiB, MiB))!;
    expect(Buffer.from(next.data).every((x) => x === 2)).toBe(true);
    next.release!();
  });

  it('keeps a chunk until every reply holding a view of it is sent, and stays within its budget', async () => {
    const { read } = file(16 * MiB, 3);
    const b = budget(2);
    const ra = new ReadAhead(read, b, new AbortController().signal);
    await ra.take(0, MiB);
    const held = (await ra.take(MiB, MiB))!; // chunk 0, and chunk 1 (the budget stops chunk 2)
    expect(b.live).toBe(2);
    const later = (await ra.take(2 * MiB, MiB))!;
    ra.clear();
    await vi.waitFor(() => expect(b.live).toBe(1)); // chunk 1 is gone, chunk 0 waits for its two replies
    expect(Buffer.from(held.data).every((x) => x === 3)).toBe(true);
    held.release!();
    later.release!();
    later.release!(); // twice is harmless
    expect(b.live).toBe(0);
  });

  it('gives up on a chunk whose read failed and never reuses its buffer', async () => {
    let fail = true;
    const read = async (buf: Buffer, at: number): Promise<number> => {
      if (fail && at === 0) throw new Error('EIO');
      buf.fill(9);
      return buf.length;
    };
    const b = budget();
    const ra = new ReadAhead(read, b, new AbortController().signal);
    await ra.take(0, MiB);
    expect(await ra.take(MiB, MiB)).toBeUndefined();
    fail = false;
    ra.clear();
    await vi.waitFor(() => expect(b.live).toBe(0));
  });
  it('with inline reads and attributes, serves the next chunk synchronously right after prefetch, and an inline failure falls back', async () => {
    const data = Buffer.alloc(3 * CHUNK_BYTES, 5);
    data.writeUInt32BE(0xcafe, CHUNK_BYTES);
    const reads: number[] = [];
    let failAt = -1;
    const read = (buf: Buffer, at: number): number => {
      reads.push(at);
      if (at === failAt) throw new Error('EIO');
      return data.copy(buf, 0, at, Math.min(at + buf.length, data.length));
    };
    const attr = { type: 'file', size: data.length, mode: 0o644, uid: 1, gid: 1 } as unknown as Attr;
    let stats = 0;
    const b = budget();
    const ra = new ReadAhead(read, b, new AbortController().signal, () => (stats++, attr));
    expect(await ra.take(0, MiB)).toBeUndefined();
    (await ra.take(MiB, MiB))!.release!(); // chunk 0 served; chunks 1 and 2 read inline by now
    expect(reads).toEqual([0, CHUNK_BYTES, 2 * CHUNK_BYTES]);
    expect(stats).toBe(3);
    let pos = 2 * MiB;
    for (; pos < 2 * CHUNK_BYTES; pos += MiB) {
      const got = ra.takeNow(pos, MiB); // no await anywhere: the chunk was read in prefetch
      expect(got?.attr).toBe(attr);
      if (pos === CHUNK_BYTES) expect(Buffer.from(got!.data).readUInt32BE(0)).toBe(0xcafe);
      got!.release!();
      ra.prefetch();
    }
    ra.clear();
    // A failing inline read: takeNow declines, take() gives up on the chunk (the caller's own read reports why).
    failAt = 2 * CHUNK_BYTES;
    const again = new ReadAhead(read, b, new AbortController().signal, () => attr);
    expect(await again.take(CHUNK_BYTES - MiB, MiB)).toBeUndefined();
    (await again.take(CHUNK_BYTES, MiB))!.release!();
    for (pos = CHUNK_BYTES + MiB; pos < 2 * CHUNK_BYTES; pos += MiB) {
      again.takeNow(pos, MiB)!.release!();
      again.prefetch();
    }
    expect(again.takeNow(pos, MiB)).toBeUndefined();
    expect(await again.take(pos, MiB)).toBeUndefined();
    again.clear();
    await vi.waitFor(() => expect(b.live).toBe(0));
  });
});
