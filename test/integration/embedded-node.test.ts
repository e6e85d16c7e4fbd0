import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipfsGuestOn } from '../../src-main/guests/ipfs.ts';
import { connectNode } from '../../src-main/ipfs/discover.ts';
import { FsError } from '../../src-main/vfs/FsError.ts';
import type { Vfs } from '../../src-main/vfs/types.ts';
import { missingIpfsPeer } from '../helpers/ipfsPeer.ts';
import { sharedIpfsPeer, type SharedIpfsPeer } from '../helpers/sharedPeers.ts';
import { startTrustlessGateway, type TestGateway } from '../helpers/trustlessGateway.ts';

// Issue 10: the embedded node reads content whose blocks are only on a loopback
// trustless gateway (serving the js-ipfs peer's blocks), verifies every block, fails
// fast offline, and imports files to the same CIDs the peer makes with the same options.

const skip = missingIpfsPeer();
const o = (ms = 60_000): { signal: AbortSignal } => ({ signal: AbortSignal.timeout(ms) });
/** Kubo's current import defaults, as the js-ipfs peer's add options. */
const KUBO_DEFAULTS = { cidVersion: 1, rawLeaves: true, chunker: 'size-1048576' } as const;

async function readAll(vfs: Vfs, path: string): Promise<Buffer> {
  const h = await vfs.open(path, {}, o());
  const parts: Uint8Array[] = [];
  try {
    for (let pos = 0; ; ) {
      const b = await h.read(pos, 128 * 1024, o());
      if (b.length === 0) break;
      parts.push(b);
      pos += b.length;
    }
  } finally {
    await h.close();
  }
  return Buffer.concat(parts);
}

async function failure(p: Promise<unknown>): Promise<FsError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof FsError) return err;
    throw new Error(`not an FsError: ${String(err)}`);
  }
  throw new Error('expected a failure, got none');
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe.skipIf(skip)('the embedded node', () => {
  let peer: SharedIpfsPeer | undefined;
  let gw: TestGateway | undefined;
  let work = '';
  let rootCid = '';
  const big = randomBytes(3 * 1024 * 1024 + 7);
  const small = Buffer.from('hello from the embedded node\n');
  /** A fresh data dir per case: the embedded node is one per repo per process. */
  const env = async (name: string): Promise<NodeJS.ProcessEnv> => {
    const d = join(work, name);
    await mkdir(d, { recursive: true });
    return { ...process.env, XDG_DATA_HOME: d };
  };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-embedded-'));
    peer = await sharedIpfsPeer();
    let root: string | undefined;
    for await (const r of peer.client.addAll(
      [
        { path: 'd/big.bin', content: big },
        { path: 'd/sub/small.txt', content: small },
      ],
      KUBO_DEFAULTS,
    )) {
      if (r.path === 'd') root = r.cid.toString();
    }
    rootCid = root!;
    gw = await startTrustlessGateway(peer.client);
  });
  afterAll(async () => {
    await gw?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('reads a CID whose blocks are only on a trustless gateway, byte for byte, and keeps them', async () => {
    const node = await connectNode('embedded', { gateways: [gw!.url], env: await env('gw') });
    const vfs = ipfsGuestOn(node, { root: `/ipfs/${rootCid}` });
    try {
      expect((await vfs.getattr('/big.bin', o())).size).toBe(big.length);
      const names: string[] = [];
      for await (const e of vfs.readdir('/', o())) names.push(`${e.name}:${e.attr.type}`);
      expect(names.sort()).toEqual(['big.bin:file', 'sub:dir']);
      expect(sha(await readAll(vfs, '/big.bin'))).toBe(sha(big));
      expect((await readAll(vfs, '/sub/small.txt')).equals(small)).toBe(true);
      const h = await vfs.open('/big.bin', {}, o());
      const mid = await h.read(1024 * 1024 - 3, 10, o());
      await h.close();
      expect(Buffer.from(mid).equals(big.subarray(1024 * 1024 - 3, 1024 * 1024 + 7))).toBe(true);
      // every block is now local: the same content reads with the gateway gone
      const before = gw!.requests.length;
      expect(sha(await readAll(ipfsGuestOn(node, { root: `/ipfs/${rootCid}` }), '/big.bin'))).toBe(sha(big));
      expect(gw!.requests.length).toBe(before);
    } finally {
      await vfs.close();
    }
  });

  it('refuses a block that does not match its CID: the read fails with IO, never wrong bytes', async () => {
    gw!.corrupt = true;
    try {
      const node = await connectNode('embedded', { gateways: [gw!.url], env: await env('corrupt') });
      const vfs = ipfsGuestOn(node, { root: `/ipfs/${rootCid}` });
      const err = await failure(vfs.getattr('/big.bin', o()));
      expect(err.kind).toBe('IO');
      expect(err.message).toMatch(/failed verification/);
      expect(err.message).toContain(rootCid);
      await vfs.close();
    } finally {
      gw!.corrupt = false;
    }
  });

  it('offline: a missing block fails at once with a message saying so', async () => {
    const node = await connectNode('embedded', { gateways: [gw!.url], offline: true, env: await env('offline') });
    const vfs = ipfsGuestOn(node, { root: `/ipfs/${rootCid}` });
    const before = gw!.requests.length;
    const err = await failure(vfs.getattr('/', o()));
    expect(err.kind).toBe('IO');
    expect(err.message).toMatch(/offline/);
    expect(gw!.requests.length).toBe(before);
    await vfs.close();
  });

  it('add imports a file and a folder to the CIDs the peer gives with the same options, pinned, and a mount reads them back', async () => {
    const src = join(work, 'src');
    await mkdir(join(src, 'inner'), { recursive: true });
    await writeFile(join(src, 'big.bin'), big);
    await writeFile(join(src, 'inner', 'small.txt'), small);
    const node = await connectNode('embedded', { gateways: [], env: await env('add') });
    const file = await node.add(join(src, 'big.bin'), o());
    const dir = await node.add(src, o());
    expect(file.cid).toBe((await peer!.client.add(big, KUBO_DEFAULTS)).cid.toString());
    let peerDir: string | undefined;
    for await (const r of peer!.client.addAll([{ path: 'src/big.bin', content: big }, { path: 'src/inner/small.txt', content: small }], KUBO_DEFAULTS)) {
      if (r.path === 'src') peerDir = r.cid.toString();
    }
    expect(dir.cid).toBe(peerDir);
    expect(await node.pins(o())).toEqual(expect.arrayContaining([file.cid, dir.cid]));
    const vfs = ipfsGuestOn(node, {});
    expect(sha(await readAll(vfs, `/${dir.cid}/big.bin`))).toBe(sha(big));
    expect((await readAll(vfs, `/${dir.cid}/inner/small.txt`)).equals(small)).toBe(true);
    await vfs.close();
  });
});
