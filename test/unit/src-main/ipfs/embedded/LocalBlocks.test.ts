import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dagPb from '@ipld/dag-pb';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalBlocks } from '../../../../../src-main/ipfs/embedded/LocalBlocks.ts';

// The embedded node's cache: a size cap with LRU eviction that never evicts a block
// reachable from a protected root; offline misses fail at once.

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function raw(fill: number, size = 1000): Promise<{ cid: CID; bytes: Uint8Array }> {
  const bytes = new Uint8Array(size).fill(fill);
  return { cid: CID.createV1(0x55, await sha256.digest(bytes)), bytes };
}

describe('LocalBlocks', () => {
  it('evicts least recently used blocks past its cap, never those under a protected root', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-blocks-'));
    dirs.push(dir);
    const pinnedLeaf = await raw(1);
    const parent = dagPb.encode(dagPb.prepare({ Links: [{ Name: 'x', Hash: pinnedLeaf.cid, Tsize: 1000 }] }));
    const parentCid = CID.createV1(0x70, await sha256.digest(parent));
    const store = new LocalBlocks(dir, { maxBytes: 4500, protectedRoots: async () => [parentCid.toString()] });
    await store.open();
    await store.putBytes(pinnedLeaf.cid, pinnedLeaf.bytes);
    await store.putBytes(parentCid, parent);
    const others = await Promise.all([2, 3, 4, 5, 6].map((f) => raw(f)));
    for (const b of others) {
      await store.putBytes(b.cid, b.bytes);
      await store.evict();
    }
    expect(await store.has(pinnedLeaf.cid)).toBe(true);
    expect(await store.has(parentCid)).toBe(true);
    // the oldest unprotected ones went; the newest stays
    expect(await store.has(others[0]!.cid)).toBe(false);
    expect(await store.has(others[4]!.cid)).toBe(true);
    expect((await store.usage()).bytes).toBeLessThanOrEqual(4500);
  });

  it('without a fetch (offline) a missing block fails at once, saying why', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-blocks-'));
    dirs.push(dir);
    const store = new LocalBlocks(dir, { maxBytes: 1e9, offlineReason: 'Berth is in offline mode', protectedRoots: async () => [] });
    await store.open();
    const b = await raw(9);
    await expect(store.getBytes(b.cid)).rejects.toMatchObject({ kind: 'IO', message: expect.stringMatching(/offline mode/) });
    await store.putBytes(b.cid, b.bytes);
    expect(Buffer.from(await store.getBytes(b.cid)).equals(Buffer.from(b.bytes))).toBe(true);
  });

  it('reads a block into memory the caller gives (alloc), whole, and a missing one still as missing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-blocks-'));
    dirs.push(dir);
    const store = new LocalBlocks(dir, { maxBytes: 1e9, offlineReason: 'offline', protectedRoots: async () => [] });
    await store.open();
    const b = await raw(5, 300_000);
    await store.putBytes(b.cid, b.bytes);
    const mine = new Uint8Array(400_000);
    const got = await store.getBytes(b.cid, { alloc: (n) => mine.subarray(0, n) });
    expect(got.buffer).toBe(mine.buffer);
    expect(Buffer.from(got).equals(Buffer.from(b.bytes))).toBe(true);
    const gone = await raw(6);
    await expect(store.getBytes(gone.cid, { alloc: (n) => new Uint8Array(n) })).rejects.toMatchObject({ kind: 'IO', message: expect.stringMatching(/not in the local store/) });
  });
});
