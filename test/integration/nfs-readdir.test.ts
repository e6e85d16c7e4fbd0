import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalGuest } from '../../src-main/guests/local.ts';
import { NfsGuest } from '../../src-main/guests/nfs.ts';
import { NfsClient } from '../../src-main/nfs/client/NfsClient.ts';
import { NfsServer } from '../../src-main/nfs/server/NfsServer.ts';
import type { Vfs } from '../../src-main/vfs/types.ts';
import { missingGanesha, startGanesha, type Ganesha } from '../helpers/ganesha.ts';

// READDIR / READDIRPLUS paging (RFC 1813 §3.3.16-17) over a big folder with small pages,
// on our server and on nfs-ganesha alike; and AUTH_SYS credentials as ganesha sees them.

const COUNT = 2_500;

function makeDir(base: string): string {
  const dir = join(base, 'export');
  mkdirSync(join(dir, 'big'), { recursive: true });
  for (let i = 0; i < COUNT; i++) writeFileSync(join(dir, 'big', `entry-with-a-longish-name-${i}`), '');
  chmodSync(dir, 0o777);
  return dir;
}

async function pageThrough(client: NfsClient, dirFh: Buffer, count: number): Promise<{ names: string[]; pages: number }> {
  const names: string[] = [];
  let cookie = 0n;
  let verf: Buffer = Buffer.alloc(8);
  let pages = 0;
  for (;;) {
    const page = await client.readdirPage(dirFh, cookie, verf, count);
    pages++;
    for (const e of page.entries) {
      if (e.name !== '.' && e.name !== '..') names.push(e.name);
      cookie = e.cookie;
    }
    verf = page.verf;
    if (page.eof) break;
    expect(page.entries.length).toBeGreaterThan(0);
  }
  return { names, pages };
}

function suite(name: string, start: (dir: string) => Promise<{ port: number; mountPort?: number; exportPath: string; stop: () => Promise<void> }>, skip: string | undefined): void {
  describe.skipIf(skip)(`directory paging on ${name}`, () => {
    let base: string;
    let dir: string;
    let server: { port: number; mountPort?: number; exportPath: string; stop: () => Promise<void> };
    let client: NfsClient;
    let bigFh: Buffer;

    beforeAll(async () => {
      base = mkdtempSync(join(tmpdir(), 'berth-nfs-readdir-'));
      dir = makeDir(base);
      server = await start(dir);
      client = new NfsClient({ host: '127.0.0.1', port: server.port, ...(server.mountPort ? { mountPort: server.mountPort } : {}), cred: { uid: 0, gid: 0 } });
      const root = await client.mount(server.exportPath);
      bigFh = (await client.lookup(root, 'big')).fh;
    });
    afterAll(async () => {
      await client?.close();
      await server?.stop();
      if (base) rmSync(base, { recursive: true, force: true });
    });

    it('READDIR with small pages returns every name exactly once', async () => {
      const { names, pages } = await pageThrough(client, bigFh, 4096);
      expect(pages).toBeGreaterThan(10);
      expect(names.length).toBe(COUNT);
      expect(new Set(names).size).toBe(COUNT);
      expect(names.sort()).toEqual(readdirSync(join(dir, 'big')).sort());
    });

    it('READDIRPLUS with small pages returns every name with attributes and a handle', async () => {
      const seen = new Set<string>();
      for await (const e of client.readdirplus(bigFh, undefined, 8192, 2048)) {
        if (e.name === '.' || e.name === '..') continue;
        expect(e.attr?.type).toBe('file');
        expect(e.fh?.length).toBeGreaterThan(0);
        seen.add(e.name);
      }
      expect(seen.size).toBe(COUNT);
    });

    it('two listings of the same folder interleaved both complete', async () => {
      const [a, b] = await Promise.all([pageThrough(client, bigFh, 2048), pageThrough(client, bigFh, 3000)]);
      expect(a.names.length).toBe(COUNT);
      expect(b.names.length).toBe(COUNT);
    });
  });
}

suite(
  'our server',
  async (dir) => {
    const local: Vfs = await openLocalGuest({ kind: 'local', path: dir, readOnly: true });
    const s = new NfsServer(local, {});
    const { port } = await s.listen(0);
    return { port, exportPath: '/', stop: async () => { await s.close(); await local.close(); } };
  },
  undefined,
);

const ganeshaSkip = missingGanesha();
suite(
  'nfs-ganesha',
  async (dir) => {
    const g = await startGanesha(dir);
    return { port: g.nfsPort, mountPort: g.mountPort, exportPath: g.exportPath, stop: () => g.stop() };
  },
  ganeshaSkip,
);

describe.skipIf(ganeshaSkip)('AUTH_SYS credentials of the nfs guest', () => {
  let base: string;
  let g: Ganesha;
  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'berth-nfs-cred-'));
    g = await startGanesha(makeDir(base));
  });
  afterAll(async () => {
    await g?.stop();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('creates files owned by the uid/gid it was given', async () => {
    const vfs = await NfsGuest.open({ kind: 'nfs', server: `/ip4/127.0.0.1/tcp/${g.nfsPort}`, export: g.exportPath, uid: 4321, gid: 8765 }, { mountPort: g.mountPort });
    try {
      const o = { signal: AbortSignal.timeout(10_000) };
      const h = await vfs.create!('/owned.txt', 0o644, o);
      await h.close();
      await vfs.mkdir!('/owned-dir', 0o755, o);
      for (const p of ['owned.txt', 'owned-dir']) {
        const st = lstatSync(join(base, 'export', p));
        expect([st.uid, st.gid], p).toEqual([4321, 8765]);
        const a = await vfs.getattr(`/${p}`, o);
        expect([a.uid, a.gid], p).toEqual([4321, 8765]);
      }
    } finally {
      await vfs.close();
    }
  });
});
