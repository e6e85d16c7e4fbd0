import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GuestSpecSchema } from '../../src-shared/mountSpec.ts';
import { openGuest } from '../../src-main/guests/index.ts';
import { nfsHost } from '../../src-main/hosts/nfs.ts';
import type { MountedHost } from '../../src-main/hosts/types.ts';
import { wrapGuest } from '../../src-main/vfs/wrapGuest.ts';
import type { Vfs } from '../../src-main/vfs/types.ts';
import { cliMount, type CliMount } from '../conformance/cliMount.ts';
import type { FixtureTree } from '../helpers/fixtures.ts';
import { missingIpfsPeer } from '../helpers/ipfsPeer.ts';
import { sharedIpfsPeer } from '../helpers/sharedPeers.ts';
import { fuseMounts, hasCommand, missingFuse, missingPeer } from '../helpers/peers.ts';

// The IPFS fixture tree of the core issue, added to the js-ipfs peer, served by our NFS
// host: read by libnfs-utils, and at the end of the reference tool's demo chain
// (FUSE ← NFS guest ← NFS host ← IPFS guest) with sha256sum equal end to end.

function run(cmd: string, args: string[]): Promise<{ code: number; out: Buffer; err: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'buffer', maxBuffer: 256 << 20 }, (e, out, err) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err: err.toString() }),
    );
  });
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const skip =
  missingIpfsPeer() ?? missingPeer('libnfs-utils', () => hasCommand('nfs-ls') && hasCommand('nfs-cat') && hasCommand('nfs-cp'), 'apt-get install libnfs-utils');

describe.skipIf(skip)('NFS host serving the IPFS fixture tree', () => {
  let base: string;
  let tree: FixtureTree;
  let vfs: Vfs;
  let host: MountedHost;
  let port: string;
  const children: CliMount[] = [];
  const url = (path: string): string => `nfs://127.0.0.1${path === '/' ? '/' : `/${path}`}?version=3&nfsport=${port}&mountport=${port}`;

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'berth-nfs-ipfs-'));
    const shared = await sharedIpfsPeer({ fixture: true });
    tree = shared.tree;
    const spec = GuestSpecSchema.parse({ kind: 'ipfs', root: `/ipfs/${shared.added.rootCid}`, node: shared.peer.apiMultiaddr });
    vfs = wrapGuest(await openGuest(spec, {}), { timeoutMs: 30_000 });
    // libnfs runs as root here; the fixture's 0640 file is root's, so root must stay root to read it.
    host = await nfsHost.mount(vfs, '/ip4/127.0.0.1/tcp/0', { rootSquash: false });
    port = host.info!.port!;
  }, 600_000);

  afterAll(async () => {
    for (const c of children.reverse()) await c.stop();
    await host?.unmount();
    await vfs?.close();
    if (base) {
      expect(fuseMounts().filter((p) => p.startsWith(base))).toEqual([]);
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('nfs-ls -R lists every name; files and folders with their sizes', async () => {
    const r = await run('nfs-ls', ['-R', url('/')]);
    expect(r.code, r.err).toBe(0);
    const seen = new Map<string, { type: string; size: number }>();
    for (const line of r.out.toString('utf8').split('\n')) {
      const m = /^(\S)\S+\s+\d+\s+\d+\s+\d+\s+(\d+) (.*)$/.exec(line);
      if (m) seen.set(m[3]!, { type: m[1]!, size: Number(m[2]) });
    }
    const expected = [...tree.entries.values()].filter((e) => e.path !== '');
    // Symlinks the guest can resolve inside the tree may be presented as their targets:
    // every name is there; types and sizes are checked for plain files and folders.
    expect([...seen.keys()].sort()).toEqual(expected.map((e) => e.path).sort());
    for (const e of expected) {
      if (e.type === 'symlink') continue;
      expect(seen.get(e.path)!.type, e.path).toBe(e.type === 'dir' ? 'd' : '-');
      if (e.type === 'file') expect(seen.get(e.path)!.size, e.path).toBe(e.size);
    }
  });

  it('nfs-cat and nfs-cp return every byte', async () => {
    const files = [...tree.entries.values()].filter((e) => e.type === 'file' && e.path !== 'big.bin' && (!e.path.startsWith('many/') || e.path.endsWith('99.txt')));
    for (const e of files) {
      const r = await run('nfs-cat', [url(`/${e.path}`)]);
      expect(r.code, `${e.path}: ${r.err}`).toBe(0);
      expect(sha(r.out), e.path).toBe(e.sha256);
    }
    const dest = join(base, 'big.copy');
    const cp = await run('nfs-cp', [url('/big.bin'), dest]);
    expect(cp.code, cp.err).toBe(0);
    expect(sha(readFileSync(dest))).toBe(tree.entries.get('big.bin')!.sha256);
    rmSync(dest);
  });

  it.skipIf(missingFuse())('demo chain: FUSE ← NFS guest ← NFS host ← IPFS guest, sha256sum equal', async () => {
    const mnt = join(base, 'mnt');
    mkdirSync(mnt);
    const fuse = await cliMount(['fuse', 'nfs', '--nfs-server', host.target, '--timeout', '30s', mnt]);
    children.push(fuse);
    for (const p of ['big.bin', 'a/file.txt', 'a/b/c/deep.txt', 'unicode/日本語/ファイル.txt'.normalize('NFC'), 'many/f4999.txt']) {
      const r = await run('sha256sum', [join(mnt, p)]);
      expect(r.code, `${p}: ${r.err}`).toBe(0);
      expect(r.out.toString().split(' ')[0], p).toBe(tree.entries.get(p)!.sha256);
    }
    await fuse.stop();
    children.length = 0;
  });
});
