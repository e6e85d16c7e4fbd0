import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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
  it('at a clean stop keeps its table, and removes the tables no run took for 30 days and temporary files left by a crash', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-handles-'));
    dirs.push(dir);
    const day = 24 * 3600_000;
    await aged(join(dir, 'gone.handles'), SNAPSHOT_MAX_AGE_MS + day);
    await aged(join(dir, 'paused.handles'), SNAPSHOT_MAX_AGE_MS - day);
    await aged(join(dir, 'gone.handles.123.tmp'), 2 * 3600_000);
    await aged(join(dir, 'other.handles.456.tmp'), 0); // another export writing its table now
    await aged(join(dir, 'unrelated'), SNAPSHOT_MAX_AGE_MS + day);

    const server = new NfsServer(vfs, { exportKey: 'local /srv', handlesFile: join(dir, 'this.handles') });
    await server.close();

    expect((await readdir(dir)).sort()).toEqual(['other.handles.456.tmp', 'paused.handles', 'this.handles', 'unrelated']);
  });
});
