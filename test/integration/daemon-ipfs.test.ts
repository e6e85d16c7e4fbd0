import { join } from 'node:path';
import { CID } from 'multiformats/cid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MountStatus } from '../../src-shared/mountState.ts';
import type { MountInput } from '../../src-shared/mountSpec.ts';
import { berthSandbox, missingLauncher, waitFor, type BerthSandbox } from '../helpers/berthDaemon.ts';
import { missingIpfsPeer } from '../helpers/ipfsPeer.ts';
import { sharedIpfsPeer, type SharedIpfsPeer } from '../helpers/sharedPeers.ts';
import { fuseMounts, missingFuse } from '../helpers/peers.ts';

// The daemon with IPFS guests over a real js-ipfs peer: the CLI end to end (three
// guests, CIDs as the peer reports them, clean unmount), and an auto-mount that waits
// for a node starting after Berth, as it does at login.

const skip = missingLauncher() ?? missingFuse() ?? missingIpfsPeer();

describe.skipIf(skip)('daemon with IPFS guests', () => {
  let sb: BerthSandbox;
  let peer: SharedIpfsPeer;
  let rootCid: string;
  let fileCid: string;
  let dirCid: string;

  beforeAll(async () => {
    sb = await berthSandbox();
    peer = await sharedIpfsPeer();
    const added: { path: string; cid: string }[] = [];
    for await (const e of peer.client.addAll(
      [
        { path: 'site/index.html', content: new TextEncoder().encode('<h1>berth</h1>\n') },
        { path: 'site/docs/readme.txt', content: new TextEncoder().encode('read me\n') },
      ],
      { cidVersion: 1, wrapWithDirectory: false },
    )) {
      added.push({ path: e.path, cid: e.cid.toString() });
    }
    rootCid = added.find((e) => e.path === 'site')!.cid;
    dirCid = added.find((e) => e.path === 'site/docs')!.cid;
    fileCid = added.find((e) => e.path === 'site/docs/readme.txt')!.cid;
  }, 600_000);
  afterAll(async () => {
    await sb?.cleanup();
    // The run's shared peer: left running for the next file (a failed test may have killed it).
    await peer?.start();
    expect(fuseMounts().filter((m) => sb && m.startsWith(sb.base))).toEqual([]);
  });

  it('CLI: mounts three guests, lists them mounted, gives the peer\'s CIDs, unmounts all cleanly', async () => {
    const api = peer.apiMultiaddr;
    const mps = { root: await sb.dir('mnt-root'), ns: await sb.dir('mnt-ipfs'), pins: await sb.dir('mnt-pins') };
    const runs = [
      ['mount', 'fuse', 'ipfs', '--ipfs-api', api, '--root', `/ipfs/${rootCid}`, mps.root],
      ['mount', 'fuse', 'ipfs', '--ipfs-api', api, mps.ns],
      ['mount', 'fuse', 'pinfs', '--ipfs-api', api, mps.pins],
    ];
    for (const args of runs) {
      const r = await sb.run(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    const list = await sb.run(['list', '--json']);
    const mounts = JSON.parse(list.stdout) as MountStatus[];
    expect(mounts.map((m) => [m.spec.guest.kind, m.state])).toEqual([
      ['ipfs', 'mounted'],
      ['ipfs', 'mounted'],
      ['pinfs', 'mounted'],
    ]);

    const cid = async (p: string) => {
      const r = await sb.run(['cid', p]);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.trim();
    };
    expect(await cid(join(mps.root, 'docs/readme.txt'))).toBe(fileCid);
    expect(await cid(join(mps.root, 'docs'))).toBe(dirCid);
    // The root may come back in another multibase; it must name the same content.
    expect(CID.parse(await cid(mps.root)).equals(CID.parse(rootCid))).toBe(true);
    expect(await cid(join(mps.ns, rootCid, 'docs/readme.txt'))).toBe(fileCid);

    const link = await sb.run(['link', join(mps.root, 'docs/readme.txt'), '--gateway', 'https://dweb.link', '--subdomain']);
    expect(link.code, link.stderr).toBe(0);
    expect(link.stdout.trim()).toMatch(new RegExp(`^https://${fileCid}\\.ipfs\\.dweb\\.link/`));

    const all = await sb.run(['unmount', '--all']);
    expect(all.code, all.stderr).toBe(0);
    expect(fuseMounts().filter((m) => m.startsWith(sb.base))).toEqual([]);
    expect((await sb.run(['shutdown'])).code).toBe(0);
    // Ten CLI runs, each starting tsx: slow on a busy 2-core machine.
  }, 300_000);

  it('an auto-mount whose IPFS node starts 5 s after the daemon shows failed with a retry time, then mounts', async () => {
    const spec: MountInput = {
      name: 'late node',
      host: { kind: 'fuse', mountpoint: await sb.dir('mnt-late') },
      guest: { kind: 'ipfs', root: `/ipfs/${rootCid}`, node: peer.apiMultiaddr },
    };
    // Whatever the previous test left running (it stops its daemon only when it passes).
    await sb.run(['shutdown', '--level', 'immediate']);
    const first = await sb.startDaemon();
    const added = await sb.client.add(spec, { mount: false });
    first.child.kill('SIGTERM');
    await first.exited;
    await peer.kill();

    const t0 = Date.now();
    await sb.startDaemon();
    const failed = await waitFor(async () => {
      const m = await sb.client.get(added.id);
      return m.state === 'failed' && m.nextRetryAt ? m : undefined;
    }, 10_000, 'failed with a retry time');
    expect(failed.error?.hint).toMatch(/ipfs daemon/);
    await new Promise((r) => setTimeout(r, Math.max(0, 5000 - (Date.now() - t0))));
    await peer.start();
    const mounted = await waitFor(async () => {
      const m = await sb.client.get(added.id);
      return m.state === 'mounted' ? m : undefined;
    }, 70_000, 'mounted without user action');
    expect(mounted.error).toBeUndefined();
    expect((await sb.client.resolve(join(mounted.address!, 'docs/readme.txt'))).cid).toBe(fileCid);
  }, 180_000);
});
