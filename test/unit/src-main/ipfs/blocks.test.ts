import { CarWriter } from '@ipld/car';
import * as dagPb from '@ipld/dag-pb';
import { UnixFS } from 'ipfs-unixfs';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { describe, expect, it } from 'vitest';
import { carBlocks } from '../../../../src-main/ipfs/carBlocks.ts';
import { statFromBlock } from '../../../../src-main/ipfs/unixfsStat.ts';
import { verifyBlock } from '../../../../src-main/ipfs/verifyBlock.ts';

// Blocks from outside are verified before use; nodes are described from their root block
// with @ipld/dag-pb and ipfs-unixfs.

const LEAF = 'QmZdSwKJoJbv1nWhg56msBkYDRnUTgYuZRg4rZUs9C4VWB';

function block(u: UnixFS, links: Array<{ name: string; cid: string; tsize: number }> = []): Uint8Array {
  return dagPb.encode(dagPb.prepare({ Data: u.marshal(), Links: links.map((l) => ({ Name: l.name, Hash: CID.parse(l.cid), Tsize: l.tsize })) }));
}

async function car(blocks: Array<{ cid: CID; bytes: Uint8Array }>): Promise<Uint8Array> {
  const { writer, out } = CarWriter.create([blocks[0]!.cid]);
  const parts: Uint8Array[] = [];
  const done = (async () => {
    for await (const p of out) parts.push(p);
  })();
  for (const b of blocks) await writer.put(b);
  await writer.close();
  await done;
  return Buffer.concat(parts);
}

describe('verifyBlock', () => {
  it('accepts a block whose hash is its CID and refuses one byte changed, with a message naming both', async () => {
    const bytes = new TextEncoder().encode('hello');
    const cid = CID.createV1(0x55, await sha256.digest(bytes));
    await verifyBlock(cid, bytes, 'test');
    const bad = Uint8Array.from(bytes);
    bad[0] = bad[0]! ^ 1;
    await expect(verifyBlock(cid, bad, 'gateway http://x')).rejects.toMatchObject({ kind: 'IO', message: expect.stringMatching(/failed verification.*sha2-256/) });
  });
});

describe('carBlocks', () => {
  it('reads every block by its canonical CID, verified, and refuses a CAR with a forged block', async () => {
    const a = new Uint8Array(200).fill(7);
    const b = new TextEncoder().encode('hello');
    const v0 = CID.createV0(await sha256.digest(a));
    const v1 = CID.createV1(0x55, await sha256.digest(b));
    const got = await carBlocks(await car([{ cid: v0, bytes: a }, { cid: v1, bytes: b }]), 'test');
    expect([...got.keys()]).toEqual([v0.toString(), v1.toString()]);
    expect(Buffer.from(got.get(v1.toString())!).equals(Buffer.from(b))).toBe(true);
    const forged = await car([{ cid: v0, bytes: a }, { cid: v1, bytes: new TextEncoder().encode('hellO') }]);
    await expect(carBlocks(forged, 'dag export')).rejects.toMatchObject({ kind: 'IO', message: expect.stringMatching(/failed verification/) });
    const whole = await car([{ cid: v0, bytes: a }]);
    await expect(carBlocks(whole.subarray(0, whole.length - 2), 'cut')).rejects.toMatchObject({ kind: 'IO' });
  });
});

describe('statFromBlock', () => {
  it('reads a file with data, mode and mtime; a chunked file size from blocksizes', () => {
    const f = statFromBlock('f', block(new UnixFS({ type: 'file', data: new TextEncoder().encode('hello'), mode: 0o640, mtime: { secs: 1_600_000_000n, nsecs: 5_000_000 } })));
    expect(f).toMatchObject({ type: 'file', size: 5, mode: 0o640, mtimeMs: 1_600_000_000_005 });
    const u = new UnixFS({ type: 'file' });
    u.addBlockSize(262144n);
    u.addBlockSize(1000n);
    expect(statFromBlock('x', block(u, [{ name: '', cid: LEAF, tsize: 262158 }, { name: '', cid: LEAF, tsize: 1014 }]))).toMatchObject({ type: 'file', size: 263144 });
  });

  it('tells folders, HAMT shards and symlinks apart', () => {
    const dir = statFromBlock('d', block(new UnixFS({ type: 'directory' }), [{ name: 'café ☕', cid: LEAF, tsize: 21 }]));
    expect(dir.type).toBe('dir');
    expect([...dir.links!]).toEqual([['café ☕', LEAF]]);
    const hamt = statFromBlock('h', block(new UnixFS({ type: 'hamt-sharded-directory', fanout: 256n, hashType: 0x22n })));
    expect(hamt).toMatchObject({ type: 'dir', sharded: true });
    expect(hamt.links).toBeUndefined();
    expect(statFromBlock('l', block(new UnixFS({ type: 'symlink', data: new TextEncoder().encode('../a/ü') })))).toMatchObject({ type: 'symlink', target: '../a/ü', size: 7 });
  });

  it('refuses a truncated block with InvalidItem instead of reading garbage', () => {
    const b = block(new UnixFS({ type: 'file', data: new Uint8Array(100) }));
    expect(() => statFromBlock('t', b.subarray(0, 20))).toThrow(expect.objectContaining({ kind: 'InvalidItem' }));
  });
});
