import { randomBytes } from 'node:crypto';
import * as dagPb from '@ipld/dag-pb';
import { UnixFS } from 'ipfs-unixfs';
import { importer } from 'ipfs-unixfs-importer';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { describe, expect, it, vi } from 'vitest';
import { BlockCache } from '../../../../src-main/guests/ipfsBlockCache.ts';
import { IpfsFileHandle } from '../../../../src-main/guests/ipfsFileHandle.ts';
import { BadBlockError } from '../../../../src-main/ipfs/verifyBlock.ts';
import { FsError } from '../../../../src-main/vfs/FsError.ts';

// File content read a block at a time (issue 11): a DAG built with the importer js-ipfs and
// Kubo use, served from memory by a fetch that counts what it is asked for.

const o = (): { signal: AbortSignal } => ({ signal: AbortSignal.timeout(10_000) });

interface Dag {
  root: string;
  size: number;
  bytes: Buffer;
  blocks: Map<string, Uint8Array>;
}

async function buildDag(size: number, opts: { chunk: number; fanout: number; rawLeaves: boolean }): Promise<Dag> {
  const bytes = randomBytes(size);
  const blocks = new Map<string, Uint8Array>();
  const store = {
    put: async (cid: { bytes: Uint8Array }, b: Uint8Array) => {
      blocks.set(CID.decode(cid.bytes).toString(), b);
      return cid;
    },
  };
  let root = '';
  for await (const r of importer([{ content: bytes }], store as never, {
    cidVersion: opts.rawLeaves ? 1 : 0,
    rawLeaves: opts.rawLeaves,
    strategy: 'balanced',
    maxChunkSize: opts.chunk,
    maxChildrenPerNode: opts.fanout,
  })) {
    root = CID.decode(r.cid.bytes).toString();
  }
  return { root, size, bytes, blocks };
}

function served(dag: Dag, delayMs = 0): { cache: BlockCache; asked: string[] } {
  const asked: string[] = [];
  const cache = new BlockCache(async (cid) => {
    asked.push(cid);
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    const b = dag.blocks.get(cid);
    if (!b) throw new FsError('NotExist', `no block ${cid}`);
    return b;
  });
  return { cache, asked };
}

describe('BlockCache and IpfsFileHandle', () => {
  it('reads every range of a multi-level DAG (dag-pb leaves, 3 levels) byte for byte', async () => {
    const dag = await buildDag(3 * 1024 * 1024 + 17, { chunk: 64 * 1024, fanout: 7, rawLeaves: false });
    const { cache } = served(dag);
    const h = new IpfsFileHandle(dag.root, dag.size, cache);
    const cases: Array<[number, number]> = [
      [0, 1],
      [1, 7],
      [64 * 1024 - 3, 10],
      [7 * 64 * 1024 - 1, 2],
      [5 * 64 * 1024 + 12345, 500_000],
      [dag.size - 5, 100],
      [dag.size - 1, 1],
      [0, dag.size],
    ];
    for (const [pos, len] of cases) {
      const got = await h.read(pos, len, o());
      expect({ pos, ok: Buffer.from(got).equals(dag.bytes.subarray(pos, pos + len)) }).toEqual({ pos, ok: true });
    }
    expect((await h.read(dag.size, 10, o())).length).toBe(0);
    await expect(h.read(-1, 10, o())).rejects.toMatchObject({ kind: 'InvalidItem' });
  });

  it('a random 4 KiB read costs the root, the inner nodes on its path and ONE leaf; a second read in that leaf costs nothing', async () => {
    const dag = await buildDag(2 * 1024 * 1024, { chunk: 256 * 1024, fanout: 4, rawLeaves: true });
    const { cache, asked } = served(dag);
    const h = new IpfsFileHandle(dag.root, dag.size, cache, () => {}, 0);
    const got = await h.read(1_500_000, 4096, o());
    expect(Buffer.from(got).equals(dag.bytes.subarray(1_500_000, 1_504_096))).toBe(true);
    // 2 MiB of 256 KiB leaves, 4 per node: root -> inner -> leaf
    expect(asked.length).toBe(3);
    await h.read(1_500_000 + 8192, 4096, o());
    expect(asked.length).toBe(3);
  });

  it('a sequential reader gets the blocks ahead fetched while it reads, each once, and the bytes right', async () => {
    const dag = await buildDag(4 * 1024 * 1024, { chunk: 256 * 1024, fanout: 174, rawLeaves: false });
    const { cache, asked } = served(dag, 2);
    const h = new IpfsFileHandle(dag.root, dag.size, cache, () => {}, 1024 * 1024);
    const first = await h.read(0, 128 * 1024, o());
    expect(Buffer.from(first).equals(dag.bytes.subarray(0, 128 * 1024))).toBe(true);
    // root, the first leaf, then the 1 MiB ahead started without waiting for a read
    await vi.waitFor(() => expect(asked.length).toBeGreaterThanOrEqual(1 + 5));
    const parts: Uint8Array[] = [first];
    for (let pos = 128 * 1024; pos < dag.size; pos += 128 * 1024) parts.push(await h.read(pos, 128 * 1024, o()));
    expect(Buffer.concat(parts).equals(dag.bytes)).toBe(true);
    expect(new Set(asked).size).toBe(asked.length);
    expect(asked.length).toBe(dag.blocks.size);
  });

  it('concurrent out-of-order reads share fetches and an NFS-style 4 MiB read spans leaves', async () => {
    const dag = await buildDag(6 * 1024 * 1024, { chunk: 1024 * 1024, fanout: 1024, rawLeaves: true });
    const { cache, asked } = served(dag, 5);
    const h = new IpfsFileHandle(dag.root, dag.size, cache);
    const offsets = [3, 0, 1, 2, 5, 4].map((i) => i * 1024 * 1024 + 17);
    const got = await Promise.all(offsets.map((pos) => h.read(pos, 128 * 1024, o())));
    offsets.forEach((pos, i) => expect(Buffer.from(got[i]!).equals(dag.bytes.subarray(pos, pos + 128 * 1024))).toBe(true));
    const big = await h.read(1024 * 1024 - 100, 4 * 1024 * 1024, o());
    expect(Buffer.from(big).equals(dag.bytes.subarray(1024 * 1024 - 100, 5 * 1024 * 1024 - 100))).toBe(true);
    expect(new Set(asked).size).toBe(asked.length);
  });

  it('keeps at most maxBytes of blocks: an evicted leaf is fetched again', async () => {
    const dag = await buildDag(1024 * 1024, { chunk: 128 * 1024, fanout: 8, rawLeaves: true });
    const asked: string[] = [];
    const cache = new BlockCache(async (cid) => (asked.push(cid), dag.blocks.get(cid)!), { maxBytes: 300 * 1024 });
    const h = new IpfsFileHandle(dag.root, dag.size, cache, () => {}, 0);
    for (let pos = 0; pos < dag.size; pos += 128 * 1024) await h.read(pos, 10, o());
    const before = asked.length;
    await h.read(0, 10, o());
    expect(asked.length).toBe(before + 1);
  });

  it('blocks fetched into the cache\'s own memory are reused after eviction, and every byte read stays right', async () => {
    const dag = await buildDag(4 * 1024 * 1024 + 5, { chunk: 64 * 1024, fanout: 16, rawLeaves: false });
    const buffers = new Set<ArrayBufferLike>();
    let fetches = 0;
    // a cache of ~3 leaves: nearly every fetch evicts one, whose memory the next one takes
    const cache = new BlockCache(
      async (cid, _hint, _signal, alloc) => {
        fetches++;
        const b = dag.blocks.get(cid)!;
        await new Promise((r) => setTimeout(r, 1));
        const into = alloc(b.length);
        into.set(b);
        buffers.add(into.buffer);
        return into;
      },
      { maxBytes: 200 * 1024 },
    );
    const handles = [0, 1, 2].map(() => new IpfsFileHandle(dag.root, dag.size, cache, () => {}, 256 * 1024));
    // three readers at once, each sequential from its own start, 128 KiB at a time into one reused buffer each
    await Promise.all(
      handles.map(async (h, i) => {
        const buf = new Uint8Array(128 * 1024);
        for (let pos = i * 1024 * 1024; pos < dag.size; pos += buf.length) {
          const n = await h.readInto!(buf, pos, o());
          expect({ i, pos, ok: Buffer.from(buf.subarray(0, n)).equals(dag.bytes.subarray(pos, pos + n)) }).toEqual({ i, pos, ok: true });
        }
      }),
    );
    expect(fetches).toBeGreaterThan(dag.blocks.size);
    // far fewer buffers than fetches: freed blocks were reused
    expect(buffers.size).toBeLessThan(fetches / 2);
  });

  it('a block whose size disagrees with its parent is an IO error, never wrong bytes', async () => {
    const leaf = new Uint8Array(100).fill(1);
    const leafCid = CID.createV1(0x55, await sha256.digest(leaf));
    // the root claims 200 bytes below the link
    const u = new UnixFS({ type: 'file', blockSizes: [200n] });
    const rootBlock = dagPb.encode(dagPb.prepare({ Data: u.marshal(), Links: [{ Hash: leafCid, Tsize: 100 }] }));
    const rootCid = CID.createV1(0x70, await sha256.digest(rootBlock));
    const blocks = new Map([
      [rootCid.toString(), rootBlock],
      [leafCid.toString(), leaf],
    ]);
    const cache = new BlockCache(async (cid) => blocks.get(cid)!);
    const h = new IpfsFileHandle(rootCid.toString(), 200, cache);
    await expect(h.read(0, 10, o())).rejects.toMatchObject({ kind: 'IO', message: expect.stringMatching(/malformed/) });
  });

  it('a reader whose deadline passes fails with Timeout while the shared fetch goes on for the others', async () => {
    const dag = await buildDag(300 * 1024, { chunk: 256 * 1024, fanout: 4, rawLeaves: true });
    const { cache, asked } = served(dag, 200);
    const h = new IpfsFileHandle(dag.root, dag.size, cache, () => {}, 0);
    const ac = new AbortController();
    const short = h.read(0, 10, { signal: ac.signal });
    const long = h.read(0, 10, o());
    setTimeout(() => ac.abort(new FsError('Timeout', 'deadline')), 20);
    await expect(short).rejects.toMatchObject({ kind: 'Timeout' });
    expect(Buffer.from(await long).equals(dag.bytes.subarray(0, 10))).toBe(true);
    expect(asked.filter((c) => c === dag.root).length).toBe(1);
  });

  it('a failed fetch fails its readers and the next read asks again', async () => {
    const dag = await buildDag(100, { chunk: 256 * 1024, fanout: 4, rawLeaves: true });
    let fail = true;
    const cache = new BlockCache(async (cid) => {
      if (fail) throw new FsError('IO', 'node down');
      return dag.blocks.get(cid)!;
    });
    const h = new IpfsFileHandle(dag.root, dag.size, cache);
    await expect(h.read(0, 10, o())).rejects.toMatchObject({ kind: 'IO' });
    fail = false;
    expect(Buffer.from(await h.read(0, 10, o())).equals(dag.bytes.subarray(0, 10))).toBe(true);
  });

  it('closing a sequential reader aborts the blocks it asked ahead for; a block another reader waits on goes on', async () => {
    const dag = await buildDag(4 * 1024 * 1024, { chunk: 64 * 1024, fanout: 8, rawLeaves: true });
    const aborted: string[] = [];
    const pending = new Map<string, () => void>();
    let holding = true;
    // blocks past the first 256 KiB are held until released by the test, as a slow node would
    const cache = new BlockCache(
      (cid, _hint, signal) =>
        new Promise((resolve, reject) => {
          const b = dag.blocks.get(cid)!;
          const hold = holding && cid !== dag.root && !isFirstLeaves(cid);
          const go = (): void => resolve(b);
          signal.addEventListener('abort', () => {
            aborted.push(cid);
            reject(signal.reason);
          });
          if (hold) pending.set(cid, go);
          else go();
        }),
    );
    const rootNode = dagPb.decode(dag.blocks.get(dag.root)!);
    const firstInner = rootNode.Links.slice(0, 1).map((l) => l.Hash.toString());
    function isFirstLeaves(cid: string): boolean {
      if (firstInner.includes(cid)) return true;
      const inner = dagPb.decode(dag.blocks.get(firstInner[0]!)!);
      return inner.Links.slice(0, 4).some((l) => l.Hash.toString() === cid);
    }
    const h = new IpfsFileHandle(dag.root, dag.size, cache, () => {}, 1024 * 1024);
    const other = new IpfsFileHandle(dag.root, dag.size, cache, () => {}, 0);
    expect(Buffer.from(await h.read(0, 128 * 1024, o())).equals(dag.bytes.subarray(0, 128 * 1024))).toBe(true);
    expect(cache.fetchesInFlight).toBeGreaterThan(0);
    // another reader waits on the inner node above 512 KiB (h fetches it ahead)
    const waiting = other.read(512 * 1024, 10, o());
    await h.close();
    // everything h asked ahead for is aborted but the block `other` waits on
    expect(cache.fetchesInFlight).toBe(1);
    expect(aborted.length).toBeGreaterThan(0);
    holding = false;
    for (const go of pending.values()) go();
    expect(Buffer.from(await waiting).equals(dag.bytes.subarray(512 * 1024, 512 * 1024 + 10))).toBe(true);
    expect(cache.fetchesInFlight).toBe(0);
  });

  it('a reader that jumps elsewhere in the file drops what it asked ahead for, then reads right from there', async () => {
    const dag = await buildDag(4 * 1024 * 1024, { chunk: 64 * 1024, fanout: 8, rawLeaves: true });
    const { cache, asked } = served(dag, 30);
    const h = new IpfsFileHandle(dag.root, dag.size, cache, () => {}, 1024 * 1024);
    await h.read(0, 64 * 1024, o());
    const ahead = cache.fetchesInFlight;
    expect(ahead).toBeGreaterThan(0);
    const far = 3 * 1024 * 1024 + 100;
    const got = h.read(far, 1000, o());
    // the jump released the prefetches at once: only the path to the new offset is on its way
    expect(cache.fetchesInFlight).toBeLessThan(ahead);
    expect(Buffer.from(await got).equals(dag.bytes.subarray(far, far + 1000))).toBe(true);
    expect(asked.length).toBeGreaterThan(0);
  });

  it('a block that fails verification is said once in the log, and every read of it is an IO error; a node that cannot be reached is not logged here', async () => {
    const dag = await buildDag(512 * 1024, { chunk: 64 * 1024, fanout: 4, rawLeaves: true });
    const lines: string[] = [];
    let down = false;
    const cache = new BlockCache(
      async (cid) => {
        if (down) throw new FsError('IO', `block get ${cid}: cannot talk to the IPFS node`);
        if (cid !== dag.root) throw new BadBlockError(`block ${cid} from the test failed verification`);
        return dag.blocks.get(cid)!;
      },
      { log: (l) => lines.push(l) },
    );
    const h = new IpfsFileHandle(dag.root, dag.size, cache, () => {}, 0);
    await expect(h.read(0, 10, o())).rejects.toMatchObject({ kind: 'IO' });
    await expect(h.read(0, 10, o())).rejects.toMatchObject({ kind: 'IO' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^berth: ipfs: block \S+ from the test failed verification$/);
    down = true;
    await expect(h.read(300 * 1024, 10, o())).rejects.toMatchObject({ kind: 'IO' });
    expect(lines).toHaveLength(1);
  });
});
