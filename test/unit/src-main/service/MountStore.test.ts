import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MountSpecSchema, type MountSpec } from '../../../../src-shared/mountSpec.ts';
import { checkStoreText, MountStore, STORE_VERSION } from '../../../../src-main/service/MountStore.ts';

function spec(i: number): MountSpec {
  return MountSpecSchema.parse({
    id: `m_test${i}`,
    name: `mount ${i}`,
    host: { kind: 'fuse', mountpoint: `/mnt/berth-${i}` },
    guest: { kind: 'local', path: `/srv/${i}` },
  });
}

const settings = { gateway: 'http://127.0.0.1:8080', subdomainLinks: false, fileManagerMenu: false };

describe('MountStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-store-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('starts empty in a fresh folder, without notices', async () => {
    const r = await new MountStore(join(dir, 'berth')).load();
    expect(r.data.mounts).toEqual([]);
    expect(r.notices).toEqual([]);
  });

  it('round-trips mounts and settings, keeping an identical last good copy', async () => {
    const store = new MountStore(dir);
    await store.save(() => ({ mounts: [spec(1), spec(2)], settings }));
    const text = await readFile(store.file, 'utf8');
    expect(JSON.parse(text).version).toBe(STORE_VERSION);
    expect(await readFile(store.backup, 'utf8')).toBe(text);
    const r = await new MountStore(dir).load();
    expect(r.data.mounts.map((m) => m.id)).toEqual(['m_test1', 'm_test2']);
    expect(r.notices).toEqual([]);
  });

  for (const [what, damage] of [
    ['truncated', (f: string) => truncate(f, 20)],
    ['garbage', (f: string) => writeFile(f, '\u0000\u00ff not json at all')],
    ['empty', (f: string) => writeFile(f, '')],
    ['a wrong schema version', (f: string) => writeFile(f, JSON.stringify({ version: 99, mounts: [], settings: {} }))],
    ['an invalid spec', (f: string) => writeFile(f, JSON.stringify({ version: 1, mounts: [{ id: '../x', host: {}, guest: {} }] }))],
  ] as const) {
    it(`moves ${what} mounts.json aside and restores the last good copy, with a notice`, async () => {
      const store = new MountStore(dir);
      await store.save(() => ({ mounts: [spec(1), spec(2), spec(3)], settings }));
      await damage(store.file);
      const r = await new MountStore(dir).load();
      expect(r.data.mounts.map((m) => m.id)).toEqual(['m_test1', 'm_test2', 'm_test3']);
      expect(r.notices).toHaveLength(1);
      expect(r.notices[0]).toMatch(/moved to .*mounts\.json\.corrupt-.*restored/);
      const names = await readdir(dir);
      expect(names.filter((n) => n.startsWith('mounts.json.corrupt-'))).toHaveLength(1);
      // The restored copy is what the next start reads, silently.
      const again = await new MountStore(dir).load();
      expect(again.notices).toEqual([]);
      expect(again.data.mounts).toHaveLength(3);
    });
  }

  it('keeps the valid entries of a damaged file when no good copy exists', async () => {
    const store = new MountStore(dir);
    await writeFile(store.file, JSON.stringify({ version: 1, mounts: [spec(1), { id: 'bad' }, spec(2)] }));
    const r = await store.load();
    expect(r.data.mounts.map((m) => m.id)).toEqual(['m_test1', 'm_test2']);
    expect(r.notices[0]).toMatch(/2 valid mounts were kept/);
  });

  it('restores the last good copy when mounts.json is missing', async () => {
    const store = new MountStore(dir);
    await store.save(() => ({ mounts: [spec(1)], settings }));
    await rm(store.file);
    const r = await new MountStore(dir).load();
    expect(r.data.mounts).toHaveLength(1);
    expect(r.notices[0]).toMatch(/missing/);
  });

  it('coalesces 50 concurrent saves and ends with the last state on disk', async () => {
    const store = new MountStore(dir);
    const mounts: MountSpec[] = [];
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => {
        mounts.push(spec(i));
        return store.save(() => ({ mounts: [...mounts], settings }));
      }),
    );
    const checked = checkStoreText(await readFile(store.file, 'utf8'));
    expect(checked.ok && checked.data.mounts.length).toBe(50);
    expect((await readdir(dir)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('rejects duplicate ids', () => {
    const r = checkStoreText(JSON.stringify({ version: 1, mounts: [spec(1), spec(1)] }));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/duplicate mount id/);
  });
});
