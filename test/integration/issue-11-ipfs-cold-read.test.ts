import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dagPb from '@ipld/dag-pb';
import { UnixFS } from 'ipfs-unixfs';
import { CID } from 'multiformats/cid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unmountFuse } from '../../src-main/hosts/fuseUnmount.ts';
import { type CliMount, cliMount } from '../conformance/cliMount.ts';
import { missingIpfsPeer } from '../helpers/ipfsPeer.ts';
import { fuseMounts, missingFuse } from '../helpers/peers.ts';
import { type RpcProxy, startRpcProxy } from '../helpers/rpcProxy.ts';
import { sharedIpfsPeer, type SharedIpfsPeer } from '../helpers/sharedPeers.ts';
import { q, sh } from '../helpers/shell.ts';

// Issue 11, the cold sequential read: a file of a multi-level DAG (64 KiB leaves, 174 per
// node: three levels) read through `berth mount fuse ipfs` from a real js-ipfs peer, with a
// proxy in front of the peer that counts the requests open at it and can flip a byte of
// one block. Each test reads a file of its own: the mount keeps file content in the
// kernel's page cache (kernel_cache), so a second read of a file would not reach Berth.

const MIB = 1024 * 1024;
const LEAF = 64 * 1024;

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Waits until `ok()` holds, checking every 50 ms, at most `ms` (then returns false). */
async function until(ok: () => boolean, ms = 20_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

const skip = missingFuse() ?? missingIpfsPeer();

describe.skipIf(skip)('issue 11: a cold sequential read through FUSE, block by block from the node', () => {
  let base: string;
  let mnt: string;
  let peer: SharedIpfsPeer;
  let proxy: RpcProxy;
  let mount: CliMount | undefined;

  /**
   * Adds `size` random bytes with 64 KiB leaves; its CID and bytes. Random, so no block is
   * shared with another file (the guest's block cache would serve it without the node).
   */
  const addFile = async (size: number): Promise<{ cid: string; bytes: Buffer; path: string }> => {
    const bytes = randomBytes(size);
    const { cid } = await peer.client.add(bytes, { chunker: `size-${LEAF}`, pin: false } as Parameters<typeof peer.client.add>[1]);
    return { cid: cid.toString(), bytes, path: join(mnt, cid.toString()) };
  };

  /** The CID and file offset of leaf `n` of a file (walked through the node's own blocks). */
  const leafAt = async (root: string, n: number): Promise<{ cid: string; offset: number; depth: number }> => {
    let cid = CID.parse(root);
    let offset = 0;
    let depth = 0;
    let index = n;
    for (;;) {
      if (cid.code !== dagPb.code) return { cid: cid.toString(), offset, depth };
      const node = dagPb.decode(await peer.client.block.get(cid));
      if (node.Links.length === 0) return { cid: cid.toString(), offset, depth };
      const sizes = UnixFS.unmarshal(node.Data!).blockSizes.map(Number);
      // leaves under each child, all full but the last
      const per = sizes.map((s) => Math.ceil(s / LEAF));
      let i = 0;
      while (index >= per[i]!) {
        index -= per[i]!;
        offset += sizes[i]!;
        i++;
      }
      cid = node.Links[i]!.Hash;
      depth++;
    }
  };

  /** The leaves of a file in file order, as CIDv1 text. */
  const leavesOf = async (root: string): Promise<string[]> => {
    const cid = CID.parse(root);
    if (cid.code !== dagPb.code) return [cid.toV1().toString()];
    const node = dagPb.decode(await peer.client.block.get(cid));
    if (node.Links.length === 0) return [cid.toV1().toString()];
    const out: string[] = [];
    for (const l of node.Links) out.push(...(await leavesOf(l.Hash.toString())));
    return out;
  };
  const v1 = (c: string): string => CID.parse(c).toV1().toString();

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'berth-issue11-'));
    mnt = join(base, 'mnt');
    mkdirSync(mnt);
    peer = await sharedIpfsPeer();
    proxy = await startRpcProxy(peer.apiUrl);
    mount = await cliMount(['fuse', 'ipfs', '--ipfs-api', proxy.multiaddr, mnt]);
  }, 600_000);

  afterAll(async () => {
    await mount?.stop().catch(() => {});
    for (const p of fuseMounts().filter((p) => base && p.startsWith(base))) await unmountFuse(p, 'immediate', { graceMs: 0 }).catch(() => {});
    await proxy?.close();
    expect(fuseMounts().filter((p) => base && p.startsWith(base))).toEqual([]);
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('a 40 MiB file of three levels reads whole, byte for byte, each block asked for once', async () => {
    const f = await addFile(40 * MIB + 12345);
    const leaf = await leafAt(f.cid, 300);
    expect(leaf.depth).toBe(2);
    const before = proxy.count('block/get');
    const r = await sh(`sha256sum ${q(f.path)}`);
    expect(r.err).toBe('');
    expect(r.out.slice(0, 64)).toBe(sha(f.bytes));
    // 641 leaves, 4 inner nodes and the root; the stat of the root may ask for it again
    const leaves = Math.ceil(f.bytes.length / LEAF);
    expect(proxy.count('block/get') - before).toBeLessThanOrEqual(leaves + 4 + 2);
    expect(await until(() => proxy.open('block/get') === 0)).toBe(true);
  });

  it('a reader that stops early leaves no request at the node, and the blocks it asked ahead for are never sent', async () => {
    const f = await addFile(64 * MIB);
    // a slow node (8 in flight at 200 ms each: 40 blocks a second): blocks fetched ahead
    // pile up in Berth's queue, as they do on a busy peer
    proxy.blockDelayMs = 200;
    try {
      const before = proxy.count('block/get');
      const t0 = performance.now();
      const r = await sh(`head -c ${MIB} ${q(f.path)} | sha256sum`);
      expect(r.out.slice(0, 64)).toBe(sha(f.bytes.subarray(0, MIB)));
      // the close reaches Berth a moment after head exits; then nothing runs at the node
      expect(await until(() => proxy.open('block/get') === 0)).toBe(true);
      const elapsed = performance.now() - t0;
      const asked = proxy.count('block/get') - before;
      await new Promise((r) => setTimeout(r, 1_000));
      expect(proxy.count('block/get') - before).toBe(asked);
      expect(proxy.open()).toBe(0);
      // 1 MiB is 16 leaves; the kernel's read-ahead and the fetches sent while head read
      // and closed add some: at most 8 in flight at 200 ms each, so no more than that time
      // allows (a loaded machine takes longer to read and close, and sends more). Berth's
      // 8 MiB read-ahead (128 leaves) was not all sent: the rest was dropped when the file
      // closed (without that: 16 + 128 and more, and more still after the close, above).
      expect(asked).toBeGreaterThanOrEqual(16);
      expect(asked).toBeLessThanOrEqual(8 * Math.ceil(elapsed / 200) + 8);
      expect(asked).toBeLessThan(16 + 128);
    } finally {
      proxy.blockDelayMs = 0;
    }
  });

  it('a reader that jumps elsewhere in an open file drops what it asked ahead for at the old place', async () => {
    const f = await addFile(64 * MIB);
    const leaves = await leavesOf(f.cid);
    proxy.blockDelayMs = 200;
    // one open file: 1 MiB read from the start in 128 KiB reads, then 128 KiB at 48 MiB; it
    // stays open (stdin) while the test looks at the node
    const script = `
      const fs = require('node:fs');
      const fd = fs.openSync(process.argv[1], 'r');
      const b = Buffer.alloc(128 * 1024);
      for (let at = 0; at < ${MIB}; at += b.length) fs.readSync(fd, b, 0, b.length, at);
      fs.readSync(fd, b, 0, b.length, ${48 * MIB});
      process.stdout.write(require('node:crypto').createHash('sha256').update(b).digest('hex') + '\\n');
      process.stdin.on('end', () => fs.closeSync(fd)).resume();
    `;
    const child = spawn(process.execPath, ['-e', script, f.path], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const before = proxy.count('block/get');
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve(out.trim());
        });
        child.once('exit', (code) => reject(new Error(`reader exited with ${code}`)));
      });
      expect(line).toBe(sha(f.bytes.subarray(48 * MIB, 48 * MIB + 128 * 1024)));
      // the file is still open: what runs at the node now is only what the reads needed
      expect(await until(() => proxy.open('block/get') === 0)).toBe(true);
      const asked = proxy.count('block/get') - before;
      await new Promise((r) => setTimeout(r, 1_000));
      expect(proxy.count('block/get') - before).toBe(asked);
      // leaves between the first 1 MiB and the jump: only the kernel's read-ahead and the
      // fetches sent before the jump, not all of Berth's 8 MiB (128 leaves) ahead of 1 MiB.
      // (At 48 MiB the kernel reads ahead too, so Berth reads ahead there: a new sequential run.)
      const between = new Set(leaves.slice(MIB / LEAF, (48 * MIB) / LEAF));
      const askedBetween = proxy.blockCids.slice(before).filter((c) => between.has(v1(c))).length;
      expect(askedBetween).toBeLessThan(64);
    } finally {
      proxy.blockDelayMs = 0;
      child.stdin.end();
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    }
  });

  it('a block the node gets wrong is EIO with a log line naming it, never wrong bytes; once the node is right again, the file reads whole', async () => {
    const f = await addFile(24 * MIB);
    const bad = await leafAt(f.cid, 200);
    expect(bad.depth).toBe(2);
    proxy.corrupt = bad.cid;
    try {
      const out = join(base, 'out.bin');
      const r = await sh(`cat ${q(f.path)} > ${q(out)}`);
      expect(r.code).not.toBe(0);
      expect(r.err).toMatch(/Input\/output error/);
      // what cat got before the error is the file's own start, and stops before the bad leaf
      const got = await sh(`wc -c < ${q(out)}; head -c $(wc -c < ${q(out)}) ${q(out)} | sha256sum`);
      const [n, sum] = got.out.trim().split('\n');
      expect(Number(n)).toBeLessThanOrEqual(bad.offset);
      expect(sum!.slice(0, 64)).toBe(sha(f.bytes.subarray(0, Number(n))));
      const canon = CID.parse(bad.cid).toV1().toString();
      expect(await until(() => mount!.log.err.includes('failed verification'))).toBe(true);
      const lines = mount!.log.err.split('\n').filter((l) => l.includes('failed verification'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^berth: ipfs: block (${bad.cid}|${canon}) from .* failed verification`));
    } finally {
      proxy.corrupt = undefined;
    }
    // the bad block was never kept: read again, the node now answers right
    const again = await sh(`sha256sum ${q(f.path)}`);
    expect(again.out.slice(0, 64)).toBe(sha(f.bytes));
  });
});
