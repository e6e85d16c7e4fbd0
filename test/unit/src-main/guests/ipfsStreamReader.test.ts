import { describe, expect, it } from 'vitest';
import { StreamReader } from '../../../../src-main/guests/ipfsStreamReader.ts';
import { FsError } from '../../../../src-main/vfs/FsError.ts';

// The read-ahead window's logic, fed by an in-memory byte source (pure logic: the same
// class runs against a real peer in test/integration/ipfs-guests.test.ts).

const SIZE = 3 * 1024 * 1024 + 17;
const DATA = Uint8Array.from({ length: SIZE }, (_, i) => (i * 31 + (i >> 9)) & 0xff);
const o = (ms = 5000): { signal: AbortSignal } => ({ signal: AbortSignal.timeout(ms) });

function source(opts: { chunk?: number; failAt?: number; opened?: number[] } = {}) {
  return async function* open(offset: number, signal: AbortSignal): AsyncIterable<Uint8Array> {
    opts.opened?.push(offset);
    const chunk = opts.chunk ?? 50_000;
    for (let p = offset; p < SIZE; p += chunk) {
      signal.throwIfAborted();
      if (opts.failAt !== undefined && p >= opts.failAt) throw new FsError('IO', 'connection reset');
      await new Promise((r) => setImmediate(r));
      yield DATA.subarray(p, Math.min(p + chunk, SIZE));
    }
  };
}

const same = (got: Uint8Array | undefined, pos: number, len: number): boolean =>
  got !== undefined && Buffer.from(got).equals(Buffer.from(DATA.subarray(pos, pos + len)));

describe('StreamReader', () => {
  it('serves a sequential read in 128 KiB pieces from one stream', async () => {
    const opened: number[] = [];
    const r = new StreamReader(SIZE, source({ opened }), { readAhead: 512 * 1024, keepBehind: 256 * 1024 });
    r.restart(0);
    for (let pos = 0; pos < SIZE; pos += 131072) {
      const len = Math.min(131072, SIZE - pos);
      expect(same(await r.read(pos, len, o()), pos, len)).toBe(true);
    }
    expect(opened).toEqual([0]);
    r.close();
  });

  it('readInto copies a sequential read straight into the caller\'s buffer (chunks of odd sizes)', async () => {
    const r = new StreamReader(SIZE, source({ chunk: 7777 }), { readAhead: 512 * 1024, keepBehind: 256 * 1024 });
    r.restart(0);
    const buf = new Uint8Array(131072);
    for (let pos = 0; pos < SIZE; pos += 131072) {
      const len = Math.min(131072, SIZE - pos);
      buf.fill(0);
      expect(await r.readInto(buf.subarray(0, len), pos, o())).toBe(len);
      expect(same(buf.subarray(0, len), pos, len)).toBe(true);
    }
    expect(await r.readInto(buf, SIZE + 1_000_000, o())).toBeUndefined();
    r.close();
  });

  it('serves concurrent, out-of-order reads inside the window', async () => {
    const r = new StreamReader(SIZE, source({ chunk: 7777 }), { readAhead: 1 << 20, keepBehind: 1 << 20 });
    r.restart(100);
    const offs = [400_000, 100, 131_172, 262_244, 150_000, 1_000_001];
    const got = await Promise.all(offs.map((p) => r.read(p, 131072, o())));
    offs.forEach((p, i) => expect(same(got[i], p, 131072)).toBe(true));
    r.close();
  });

  it('declines reads outside its window so the caller can do a ranged read', async () => {
    const r = new StreamReader(SIZE, source(), { readAhead: 256 * 1024, keepBehind: 64 * 1024 });
    expect(await r.read(0, 10, o())).toBeUndefined(); // no stream yet
    r.restart(1_000_000);
    expect(await r.read(10, 10, o())).toBeUndefined(); // behind it
    expect(await r.read(3_000_000, 10, o())).toBeUndefined(); // far ahead
    expect(same(await r.read(1_000_000, 10, o()), 1_000_000, 10)).toBe(true);
    r.close();
  });

  it('fails waiting reads with the stream error, then can restart', async () => {
    const r = new StreamReader(SIZE, source({ failAt: 600_000 }), { readAhead: 1 << 20 });
    r.restart(0);
    expect(same(await r.read(0, 1000, o()), 0, 1000)).toBe(true);
    await expect(r.read(700_000, 1000, o())).rejects.toMatchObject({ kind: 'IO' });
    expect(r.covers(700_000)).toBe(false);
    r.close();
  });

  it('a read that waits past its deadline fails with Timeout and drops the stuck stream', async () => {
    const stuck = async function* (): AsyncIterable<Uint8Array> {
      yield DATA.subarray(0, 10);
      await new Promise(() => {});
    };
    const r = new StreamReader(SIZE, stuck);
    r.restart(0);
    await expect(r.read(0, 100, o(100))).rejects.toMatchObject({ kind: 'Timeout' });
    expect(r.covers(0)).toBe(false);
    r.close();
  });

  it('close fails pending reads with Closed', async () => {
    const never = async function* (): AsyncIterable<Uint8Array> {
      await new Promise(() => {});
      yield new Uint8Array(0);
    };
    const r = new StreamReader(SIZE, never);
    r.restart(0);
    const p = r.read(0, 100, o());
    r.close();
    await expect(p).rejects.toMatchObject({ kind: 'Closed' });
  });
});

describe('StreamReader under an NFS server\'s access pattern (issue-4 demo chain)', () => {
  it('never serves a range another reader trimmed away while it waited: every byte right', async () => {
    // 1 MiB reads all in flight at once on one window (a client's READs plus the server's
    // read-aheads, arriving in any order), and 1.5 MiB chunks, one of which wakes two
    // readers together. The later reader's trim() used to run between the earlier one's
    // wait and its copy, which then sliced from before the window's start: zero or wrong
    // bytes, sent to the NFS client as file data.
    const M = 1024 * 1024;
    for (const into of [false, true]) {
      const r = new StreamReader(SIZE, source({ chunk: (3 * M) / 2 }), { readAhead: 2 * M, keepBehind: M });
      r.restart(0);
      const reads: Promise<boolean>[] = [];
      for (let pos = 3 * M; pos >= 0; pos -= M) {
        const len = Math.min(M, SIZE - pos);
        const p = into
          ? (async () => {
              const buf = new Uint8Array(len);
              const n = await r.readInto(buf, pos, o());
              return n === undefined || (n === len && same(buf, pos, len));
            })()
          : r.read(pos, len, o()).then((got) => got === undefined || same(got, pos, len));
        reads.push(p);
      }
      expect(await Promise.all(reads), into ? 'readInto' : 'read').not.toContain(false);
      r.close();
    }
  });
});
