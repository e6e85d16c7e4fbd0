import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MountStore } from '../../src-main/service/MountStore.ts';
import { MountTable } from '../../src-main/service/MountTable.ts';
import { openMount } from '../../src-main/service/openMount.ts';
import { fuseMounts, missingFuse } from '../helpers/peers.ts';

// The app offers `<mount folder>/<name>` for every new mount, so one click must mount it:
// Berth creates a missing mount point inside its mount folder (only there), and takes the
// empty folder away when the mount is removed.

describe.skipIf(missingFuse())('mount points inside the mount folder', () => {
  let dir: string;
  let table: MountTable;
  let folder: string;
  let src: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-folder-'));
    folder = join(dir, 'Berth');
    src = join(dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'f.txt'), 'hello');
    table = new MountTable({ store: new MountStore(join(dir, 'config')), opener: openMount, log: () => undefined });
    await table.start();
    await table.updateSettings({ mountFolder: folder });
  });
  afterEach(async () => {
    await table.shutdown('immediate');
    await rm(dir, { recursive: true, force: true });
    expect(fuseMounts().filter((m) => m.startsWith(dir))).toEqual([]);
  });

  it('creates a missing mount point (and the folder) there, and removes the empty folder with the mount', async () => {
    const mp = join(folder, 'My share');
    const m = await table.add({ name: 'My share', host: { kind: 'fuse', mountpoint: mp }, guest: { kind: 'local', path: src } });
    expect(m.state, m.error?.message).toBe('mounted');
    expect(await readdir(mp)).toEqual(['f.txt']);
    await table.remove(m.id);
    await expect(stat(mp)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(folder)).toEqual([]);
  });

  it('creates nothing outside the mount folder: a missing mount point there fails with the usual words', async () => {
    const mp = join(dir, 'elsewhere', 'x');
    const m = await table.add({ host: { kind: 'fuse', mountpoint: mp }, guest: { kind: 'local', path: src }, autoMount: false });
    expect(m.state).toBe('failed');
    expect(m.error?.message).toMatch(/does not exist/);
    await expect(stat(join(dir, 'elsewhere'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('keeps a removed mount\'s folder that is not empty', async () => {
    const mp = join(folder, 'kept');
    const m = await table.add({ host: { kind: 'fuse', mountpoint: mp }, guest: { kind: 'local', path: src }, autoMount: false }, { mount: false });
    await mkdir(mp, { recursive: true });
    await writeFile(join(mp, 'mine.txt'), 'mine');
    await table.remove(m.id);
    expect(await readdir(mp)).toEqual(['mine.txt']);
  });
});
