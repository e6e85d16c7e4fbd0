import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddContentResponse } from '../../src-shared/api.ts';
import { berthSandbox, missingLauncher, type BerthSandbox } from '../helpers/berthDaemon.ts';
import { missingIpfsPeer } from '../helpers/ipfsPeer.ts';
import { sharedIpfsPeer, type SharedIpfsPeer } from '../helpers/sharedPeers.ts';
import { fuseMounts, missingFuse } from '../helpers/peers.ts';

// Issue 10: `berth add` on the embedded node, then a mount of it: the same bytes, and the
// CID the js-ipfs peer gives the same file with Kubo's current defaults.

const skip = missingLauncher() ?? missingFuse() ?? missingIpfsPeer();
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe.skipIf(skip)('issue 10: berth add on the embedded node', () => {
  let sb: BerthSandbox;
  let peer: SharedIpfsPeer;

  beforeAll(async () => {
    sb = await berthSandbox();
    peer = await sharedIpfsPeer();
  });
  afterAll(async () => {
    await sb?.cleanup();
    expect(fuseMounts().filter((m) => sb && m.startsWith(sb.base))).toEqual([]);
  });

  it('adds a file (pinned, CID and link printed), and a mount reads it back byte for byte', async () => {
    await sb.startDaemon();
    // the embedded node, and never the network
    await sb.client.updateSettings({ ipfsNode: 'embedded', offline: true, trustlessGateways: [] });
    const data = randomBytes(2 * 1024 * 1024 + 123);
    const file = join(await sb.dir('src'), 'photo.bin');
    await writeFile(file, data);

    const r = await sb.run(['add', '--json', file]);
    expect(r.code, r.stderr).toBe(0);
    const added = JSON.parse(r.stdout) as AddContentResponse;
    const peerCid = (await peer.client.add(data, { cidVersion: 1, rawLeaves: true, chunker: 'size-1048576' })).cid.toString();
    expect(added).toMatchObject({ cid: peerCid, name: 'photo.bin', size: data.length, node: 'embedded', pinned: true, native: `ipfs://${peerCid}` });
    expect(added.link).toContain(`/ipfs/${peerCid}?filename=photo.bin`);
    const human = await sb.run(['add', file]);
    expect(human.stdout).toContain(peerCid);
    expect(human.stdout).toMatch(/^https?:\/\//m);

    const mp = await sb.dir('mnt');
    const m = await sb.run(['mount', 'fuse', 'pinfs', mp]);
    expect(m.code, m.stderr).toBe(0);
    expect(sha(await readFile(join(mp, peerCid)))).toBe(sha(data));
    expect((await sb.run(['unmount', '--all'])).code).toBe(0);
  });

  it('refuses a path that does not exist with a message naming it', async () => {
    const r = await sb.run(['add', join(sb.base, 'nope.bin')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nope\.bin/);
  });
});
