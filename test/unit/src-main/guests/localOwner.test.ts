import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalGuest } from '../../../../src-main/guests/local.ts';
import { missingPeer } from '../../../helpers/peers.ts';

// Who owns what the local guest creates for a caller, through its synchronous face (the NFS
// host's CREATE and MKDIR): the caller, with a set-group-id folder's group, whether the
// caller is this process's own user (the kernel does it) or another one (Berth chowns).

const notRoot = missingPeer('root', () => process.getuid?.() === 0, 'creating files for other users needs root');

describe.skipIf(notRoot)('local guest: owners of new nodes', () => {
  let dir: string;
  let guest: LocalGuest;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-owner-'));
    mkdirSync(join(dir, 'sgid'));
    chownSync(join(dir, 'sgid'), 0, 4242);
    chmodSync(join(dir, 'sgid'), 0o2777);
    guest = await LocalGuest.open({ kind: 'local', path: dir, readOnly: false });
  });
  afterAll(async () => {
    await guest?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const owner = (p: string): { uid: number; gid: number } => {
    const st = statSync(join(dir, p));
    return { uid: st.uid, gid: st.gid };
  };

  it('gives files and folders in a set-group-id folder its group, for root and for another user', async () => {
    for (const [who, caller] of [
      ['root', { uid: 0, gid: 0, groups: [] }],
      ['u1000', { uid: 1000, gid: 1000, groups: [] }],
    ] as const) {
      const h = guest.now!.create(`/sgid/${who}.txt`, 0o644, caller);
      await h!.close();
      expect(guest.now!.mkdir(`/sgid/${who}.d`, 0o755, caller)).toBe(true);
      for (const p of [`sgid/${who}.txt`, `sgid/${who}.d`]) expect({ p, ...owner(p) }).toEqual({ p, uid: caller.uid, gid: 4242 });
      expect(statSync(join(dir, `sgid/${who}.d`)).mode & 0o7777).toBe(0o2755);
    }
  });

  it('gives new nodes elsewhere the caller\'s own group', async () => {
    const h = guest.now!.create('/plain.txt', 0o600, { uid: 1000, gid: 1001, groups: [] });
    await h!.close();
    expect(owner('plain.txt')).toEqual({ uid: 1000, gid: 1001 });
    const r = guest.now!.create('/root.txt', 0o600, { uid: 0, gid: 0, groups: [] });
    await r!.close();
    expect(owner('root.txt')).toEqual({ uid: 0, gid: 0 });
  });
});
