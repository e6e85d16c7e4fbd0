import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalGuest } from '../../../src-main/guests/local.ts';
import { flatten, gather, readdirBatches } from '../../../src-main/vfs/listing.ts';
import type { DirEntry, Vfs } from '../../../src-main/vfs/types.ts';
import { wrapGuest } from '../../../src-main/vfs/wrapGuest.ts';

const o = { signal: new AbortController().signal };

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function entry(i: number): DirEntry {
  return { name: `e${i}`, attr: { type: 'file', mode: 0o644, size: i, nlink: 1, uid: 0, gid: 0, ino: i + 2, mtime: 0, atime: 0, ctime: 0 } };
}

async function* oneByOne(n: number): AsyncGenerator<DirEntry> {
  for (let i = 0; i < n; i++) yield entry(i);
}

describe('listings in batches', () => {
  it('gathers a per-entry listing into batches and flattens batches back, in order', async () => {
    const batches = await all(gather(oneByOne(600)));
    expect(batches.map((b) => b.length)).toEqual([256, 256, 88]);
    expect((await all(flatten(gather(oneByOne(600))))).map((e) => e.name)).toEqual(Array.from({ length: 600 }, (_, i) => `e${i}`));
    expect(await all(gather(oneByOne(0)))).toEqual([]);
  });

  it('uses a guest\'s own batches when it has them, else its readdir', async () => {
    const own = [[entry(1)], [entry(2), entry(3)]];
    const batched = { readdir: () => oneByOne(99), readdirBatches: async function* () { yield* own; } } as unknown as Vfs;
    expect(await all(readdirBatches(batched, '/', o))).toEqual(own);
    const plain = { readdir: () => oneByOne(3) } as unknown as Vfs;
    expect((await all(readdirBatches(plain, '/', o))).flat().map((e) => e.name)).toEqual(['e0', 'e1', 'e2']);
  });

  describe('through the layers a host serves (deadlines, metadata cache) over the local guest', () => {
    let dir: string;
    let v: Vfs;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'berth-listing-'));
      for (let i = 0; i < 2500; i++) writeFileSync(join(dir, `f${String(i).padStart(4, '0')}`), 'x'.repeat(i % 7));
      mkdirSync(join(dir, 'sub'));
      symlinkSync('f0001', join(dir, 'link'));
      v = wrapGuest(await LocalGuest.open({ kind: 'local', path: dir, readOnly: false }));
    });
    afterAll(async () => {
      await v.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('lists every entry with its attributes, in batches and one by one alike', async () => {
      const batches = await all(readdirBatches(v, '/', o));
      expect(batches.length).toBeGreaterThan(1);
      const flat = batches.flat();
      expect(flat.length).toBe(2502);
      expect(flat.find((e) => e.name === 'f0013')?.attr).toMatchObject({ type: 'file', size: 6 });
      expect(flat.find((e) => e.name === 'sub')?.attr.type).toBe('dir');
      expect(flat.find((e) => e.name === 'link')?.attr).toMatchObject({ type: 'symlink', size: 5 });
      expect((await all(v.readdir('/', o))).map((e) => e.name)).toEqual(flat.map((e) => e.name));
    });

    it('never lists a file with its old size once it changed in the folder (no cache for a local folder)', async () => {
      const size = async (): Promise<number | undefined> => (await all(readdirBatches(v, '/', o))).flat().find((e) => e.name === 'f0005')?.attr.size;
      expect(await size()).toBe(5);
      writeFileSync(join(dir, 'f0005'), 'now much longer');
      expect(await size()).toBe(15);
      expect((await v.getattr('/f0005', o)).size).toBe(15);
      rmSync(join(dir, 'f0005'));
      expect(await size()).toBeUndefined();
    });
  });
});
