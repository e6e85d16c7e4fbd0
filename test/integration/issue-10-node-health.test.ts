import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MountStatus } from '../../src-shared/mountState.ts';
import { berthSandbox, missingLauncher, waitFor, type BerthSandbox } from '../helpers/berthDaemon.ts';
import { missingIpfsPeer } from '../helpers/ipfsPeer.ts';
import { sharedIpfsPeer, type SharedIpfsPeer } from '../helpers/sharedPeers.ts';
import { fuseMounts, missingFuse } from '../helpers/peers.ts';

// Issue 10 1b: a mount whose node went away says so (`berth list --json`, the event
// stream: "mounted · node unreachable" with the address and the fix), its reads fail
// fast instead of hanging, and it returns to plain "mounted" when the node is back.

const skip = missingLauncher() ?? missingFuse() ?? missingIpfsPeer();

describe.skipIf(skip)('issue 10: a mount whose IPFS node is down', () => {
  let sb: BerthSandbox;
  let peer: SharedIpfsPeer;
  let cid = '';

  beforeAll(async () => {
    sb = await berthSandbox();
    peer = await sharedIpfsPeer();
    cid = (await peer.client.add(new TextEncoder().encode('still here\n'), { cidVersion: 1 })).cid.toString();
  });
  afterAll(async () => {
    await sb?.cleanup();
    expect(fuseMounts().filter((m) => sb && m.startsWith(sb.base))).toEqual([]);
  });

  it('shows node unreachable with the hint in list --json and the events, fails reads fast, and recovers by itself', async () => {
    const mp = await sb.dir('mnt');
    const r = await sb.run(['mount', 'fuse', 'ipfs', '--ipfs-api', peer.apiMultiaddr, mp]);
    expect(r.code, r.stderr).toBe(0);
    const healths: Array<MountStatus['health']> = [];
    const stream = sb.client.events((name, data) => {
      if (name === 'mount') healths.push((data as { mount: MountStatus }).mount.health);
    });
    try {
      const listed = async (): Promise<MountStatus> => (JSON.parse((await sb.run(['list', '--json'])).stdout) as MountStatus[])[0]!;
      expect((await listed()).health).toMatchObject({ node: 'ok', address: peer.apiMultiaddr });

      await peer.kill();
      // a read notices at once (the probe would within seconds)
      await expect(readFile(join(mp, cid))).rejects.toMatchObject({ code: 'EIO' });
      const down = await waitFor(async () => {
        const m = await listed();
        return m.health?.node === 'unreachable' ? m : undefined;
      }, 30_000, 'health unreachable in berth list');
      expect(down.state).toBe('mounted');
      expect(down.health).toMatchObject({ node: 'unreachable', address: peer.apiMultiaddr, error: { hint: expect.stringMatching(/start Kubo.*embedded node/) } });
      expect(down.health!.error!.message).toContain(peer.apiMultiaddr);
      const human = await sb.run(['list']);
      expect(human.stdout).toContain('mounted · node unreachable');
      // while it is down, reads fail at once with EIO rather than waiting out a deadline
      for (let i = 0; i < 3; i++) await expect(readFile(join(mp, cid))).rejects.toMatchObject({ code: 'EIO' });

      await peer.start();
      await waitFor(async () => (await listed()).health?.node === 'ok', 30_000, 'health ok again');
      expect(await readdir(mp).then(() => 'ok')).toBe('ok');
      expect(await readFile(join(mp, cid), 'utf8')).toBe('still here\n');
      expect(healths.some((h) => h?.node === 'unreachable')).toBe(true);
      expect(healths.at(-1)?.node).toBe('ok');
    } finally {
      stream.close();
    }
    expect((await sb.run(['unmount', '--all'])).code).toBe(0);
  });
});
