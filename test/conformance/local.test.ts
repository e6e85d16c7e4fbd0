import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { openLocalGuest } from '../../src-main/guests/local.ts';
import { NfsGuest } from '../../src-main/guests/nfs.ts';
import { nfsHost } from '../../src-main/hosts/nfs.ts';
import { fuseMounts, missingFuse } from '../helpers/peers.ts';
import { cliMount } from './cliMount.ts';
import { pathReader, vfsReader } from './adapters.ts';
import { conformance } from './suite.ts';

// The local guest read directly, through FUSE, and through NFS loopback (our NFS host
// read by our NFS guest: this kernel has no NFS client).
const base = mkdtempSync(join(tmpdir(), 'berth-conf-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

conformance(
  'local guest, direct',
  async (folder) => {
    const vfs = await openLocalGuest({ kind: 'local', path: folder, readOnly: true });
    return { reader: vfsReader(vfs), close: () => vfs.close() };
  },
  { folder: () => join(base, 'direct') },
);

conformance(
  'local guest through FUSE',
  async (folder) => {
    const mnt = join(base, 'fuse-mnt');
    mkdirSync(mnt);
    // Served by the CLI in a child process (see cliMount.ts for why not in this one).
    const m = await cliMount(['fuse', 'local', '--path', folder, '--timeout', '10s', mnt]);
    return {
      reader: pathReader(mnt),
      close: async () => {
        expect(await m.stop()).toBe(0);
        expect(fuseMounts()).not.toContain(mnt);
      },
    };
  },
  { folder: () => join(base, 'fuse'), skip: missingFuse() },
);

conformance(
  'local guest through NFS loopback',
  async (folder) => {
    const local = await openLocalGuest({ kind: 'local', path: folder, readOnly: true });
    const host = await nfsHost.mount(local, '/ip4/127.0.0.1/tcp/0', { readOnly: true });
    const nfs = await NfsGuest.open({ kind: 'nfs', server: host.target, export: '/' });
    return {
      reader: vfsReader(nfs),
      close: async () => {
        await nfs.close();
        await host.unmount();
        await local.close();
      },
    };
  },
  { folder: () => join(base, 'nfs') },
);
