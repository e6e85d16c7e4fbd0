import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NfsGuest } from '../../src-main/guests/nfs.ts';
import { mfsGuestOn } from '../../src-main/guests/mfs.ts';
import { nfsHost } from '../../src-main/hosts/nfs.ts';
import { connectNode } from '../../src-main/ipfs/discover.ts';
import { wrapGuest } from '../../src-main/vfs/wrapGuest.ts';
import { missingIpfsPeer } from '../helpers/ipfsPeer.ts';
import { sharedIpfsPeer, type SharedIpfsPeer } from '../helpers/sharedPeers.ts';
import { fuseMounts, hasCommand, missingFuse, missingPeer } from '../helpers/peers.ts';
import { cliMount } from './cliMount.ts';
import { type WritableCaps, writableConformance } from './writable.ts';
import { processWriter, vfsWriter } from './writableAdapters.ts';

// Issue 10 part 3: the writable conformance suite against the mfs guest, on the js-ipfs
// peer (Kubo's files API) and on the embedded node: directly, through FUSE, and through
// our NFS host (by our NFS client, and by libnfs' nfs-cp both ways). MFS has no owners,
// hard links, fifos, extended attributes, atime or size limits of its own (caps.features).

const run = promisify(execFile);
const base = mkdtempSync(join(tmpdir(), 'berth-mfsconf-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const ROOT = { uid: 0, gid: 0 };
const FEATURES: WritableCaps['features'] = { links: false, fifos: false, xattrs: false, limits: false, atime: false, backing: false, byteNames: false };
const skipPeer = missingIpfsPeer();
let peer: SharedIpfsPeer | undefined;
beforeAll(async () => {
  if (!skipPeer) peer = await sharedIpfsPeer();
}, 120_000);

let n = 0;
/** A fresh MFS folder with /area in it, and the env the guest runs with. */
async function mfsFolder(node: string): Promise<{ path: string; env: NodeJS.ProcessEnv; nodeRef: string }> {
  const env = { ...process.env, XDG_CACHE_HOME: join(base, 'cache'), XDG_DATA_HOME: join(base, 'data') };
  const nodeRef = node === 'embedded' ? 'embedded' : peer!.apiMultiaddr;
  const ipfs = await connectNode(nodeRef, { env, gateways: [] });
  const path = `/conformance-${++n}`;
  await ipfs.mfs().mkdir(path, { signal: AbortSignal.timeout(30_000) });
  await ipfs.mfs().mkdir(`${path}/area`, { signal: AbortSignal.timeout(30_000) });
  await ipfs.close();
  return { path, env, nodeRef };
}

for (const node of ['js-ipfs', 'embedded'] as const) {
  writableConformance(
    `mfs guest on ${node}, direct`,
    async () => {
      const f = await mfsFolder(node);
      const vfs = wrapGuest(mfsGuestOn(await connectNode(f.nodeRef, { env: f.env, gateways: [] }), { path: f.path }, f.env));
      return {
        w: vfsWriter(vfs),
        caps: { who: ROOT, ownsAsCaller: false, enforces: false, timePrecisionNs: 1_000_000_000, singleTimes: true, features: FEATURES },
        close: () => vfs.close(),
      };
    },
    { folder: () => base, skip: skipPeer },
  );

  writableConformance(
    `mfs guest on ${node} through FUSE, as root`,
    async () => {
      const f = await mfsFolder(node);
      const mnt = join(base, `fuse-${node}`);
      mkdirSync(mnt);
      const m = await cliMount(['fuse', 'mfs', '--ipfs-api', f.nodeRef, '--path', f.path, '--timeout', '30s', mnt], f.env);
      return {
        w: processWriter(mnt, 'root'),
        // UnixFS mtimes are whole seconds here (Kubo's files/touch takes seconds)
        caps: { who: ROOT, ownsAsCaller: false, enforces: true, timePrecisionNs: 1_000_000_000, singleTimes: false, features: FEATURES },
        close: async () => {
          expect(await m.stop()).toBe(0);
          expect(fuseMounts()).not.toContain(mnt);
        },
      };
    },
    { folder: () => base, skip: skipPeer ?? missingFuse() },
  );

  writableConformance(
    `mfs guest on ${node} through our NFS host, by our NFS client`,
    async () => {
      const f = await mfsFolder(node);
      const vfs = wrapGuest(mfsGuestOn(await connectNode(f.nodeRef, { env: f.env, gateways: [] }), { path: f.path }, f.env));
      const host = await nfsHost.mount(vfs, '/ip4/127.0.0.1/tcp/0', { readOnly: false, rootSquash: false, onError: () => {} });
      const nfs = await NfsGuest.open({ kind: 'nfs', server: host.target, export: '/', ...ROOT });
      return {
        w: vfsWriter(nfs),
        caps: { who: ROOT, ownsAsCaller: false, enforces: false, timePrecisionNs: 1_000_000_000, singleTimes: true, features: FEATURES },
        close: async () => {
          await nfs.close();
          await host.unmount();
          await vfs.close();
        },
      };
    },
    { folder: () => base, skip: skipPeer },
  );
}

const skipLibnfs = skipPeer ?? missingPeer('libnfs-utils', () => hasCommand('nfs-cp') && hasCommand('nfs-ls'), 'apt-get install libnfs-utils');
describe.skipIf(skipLibnfs)('mfs guest through our NFS host, read and written by libnfs tools', () => {
  for (const node of ['js-ipfs', 'embedded'] as const) {
    it(`nfs-cp in and out of MFS on ${node}: the same bytes, listed by nfs-ls`, async () => {
      const f = await mfsFolder(node);
      const vfs = wrapGuest(mfsGuestOn(await connectNode(f.nodeRef, { env: f.env, gateways: [] }), { path: f.path }, f.env));
      const host = await nfsHost.mount(vfs, '/ip4/127.0.0.1/tcp/0', { readOnly: false, rootSquash: false, onError: () => {} });
      try {
        const port = Number(/\/tcp\/(\d+)/.exec(host.target)![1]);
        const url = (p: string): string => `nfs://127.0.0.1/${p}?version=3&nfsport=${port}&mountport=${port}`;
        const data = randomBytes(1024 * 1024 + 321);
        const src = join(base, `libnfs-src-${node}`);
        writeFileSync(src, data);
        await run('nfs-cp', [src, url('/area/in.bin')]);
        const back = join(base, `libnfs-back-${node}`);
        await run('nfs-cp', [url('/area/in.bin'), back]);
        expect(readFileSync(back).equals(data)).toBe(true);
        expect((await run('nfs-ls', [url('/area')])).stdout).toContain('in.bin');
        // what went in is in MFS, by its CID
        const cid = new TextDecoder().decode((await vfs.getxattr('/area/in.bin', 'user.ipfs.cid', { signal: AbortSignal.timeout(30_000) }))!);
        // js-ipfs re-encodes a file node it chmods as CIDv0
        expect(cid).toMatch(/^(baf|Qm)/);
      } finally {
        await host.unmount();
        await vfs.close();
      }
    });
  }
});
