import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openLocalGuest } from '../../../../../src-main/guests/local.ts';
import { NfsClient } from '../../../../../src-main/nfs/client/NfsClient.ts';
import { NfsServer, SNAPSHOT_MAX_AGE_MS } from '../../../../../src-main/nfs/server/NfsServer.ts';
import type { Vfs } from '../../../../../src-main/vfs/types.ts';

// The handle tables exports leave for their next run (nfs-restart-handles.test.ts has the
// restarts themselves): a table whose export never comes back is not kept for ever.

const vfs = { name: 'empty', readOnly: true, close: async () => {} } as unknown as Vfs;
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function aged(file: string, ageMs: number): Promise<void> {
  await writeFile(file, 'x');
  const t = (Date.now() - ageMs) / 1000;
  await utimes(file, t, t);
}

describe('NfsServer handle tables', () => {
  it('at a clean stop keeps its table (and drops its journal), and removes the tables and journals no run took for 30 days and temporary files left by a crash', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-handles-'));
    dirs.push(dir);
    const day = 24 * 3600_000;
    await aged(join(dir, 'gone.handles'), SNAPSHOT_MAX_AGE_MS + day);
    await aged(join(dir, 'paused.handles'), SNAPSHOT_MAX_AGE_MS - day);
    await aged(join(dir, 'crashed.handles.journal'), SNAPSHOT_MAX_AGE_MS + day); // a run that crashed and never came back
    await aged(join(dir, 'idle.handles.journal'), SNAPSHOT_MAX_AGE_MS - day);
    await aged(join(dir, 'gone.handles.123.tmp'), 2 * 3600_000);
    await aged(join(dir, 'other.handles.456.tmp'), 0); // another export writing its table now
    await aged(join(dir, 'unrelated'), SNAPSHOT_MAX_AGE_MS + day);

    const server = new NfsServer(vfs, { exportKey: 'local /srv', handlesFile: join(dir, 'this.handles') });
    await server.listen(0);
    expect((await readdir(dir)).filter((n) => n.startsWith('this.'))).toEqual(['this.handles.journal']);
    await server.close();

    expect((await readdir(dir)).sort()).toEqual(['idle.handles.journal', 'other.handles.456.tmp', 'paused.handles', 'this.handles', 'unrelated']);
  });
  it('a second run of the same export that cannot have the port leaves the first one\'s handles alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-handles-'));
    dirs.push(dir);
    await mkdir(join(dir, 'src'));
    await writeFile(join(dir, 'src', 'a.txt'), 'alpha');
    const guest = await openLocalGuest({ kind: 'local', path: join(dir, 'src'), readOnly: true });
    const opts = { exportKey: 'local /srv', handlesFile: join(dir, 'state', 'this.handles'), auth: { rootSquash: false } };
    const first = new NfsServer(guest, opts);
    const { port } = await first.listen(0);
    const cred = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
    const client = new NfsClient({ host: '127.0.0.1', port, cred });
    try {
      const a = (await client.lookup(await client.mount('/'), 'a.txt')).fh;
      const second = new NfsServer(guest, opts);
      await expect(second.listen(port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
      await second.close();
      // The first run's journal is still its own (the second did not replace it or write a snapshot).
      expect(await readdir(join(dir, 'state'))).toEqual(['this.handles.journal']);
      // The first run is killed now: as if, its journal is all it leaves.
      const journal = await readFile(join(dir, 'state', 'this.handles.journal'));
      await client.close();
      await first.close();
      await rm(join(dir, 'state', 'this.handles'));
      await writeFile(join(dir, 'state', 'this.handles.journal'), journal);
      const next = new NfsServer(guest, opts);
      const c2 = new NfsClient({ host: '127.0.0.1', port: (await next.listen(0)).port, cred });
      try {
        expect((await c2.getattr(a)).size).toBe(5);
      } finally {
        await c2.close();
        await next.close();
      }
    } finally {
      await client.close().catch(() => {});
      await first.close().catch(() => {});
      await guest.close();
    }
  });
});
