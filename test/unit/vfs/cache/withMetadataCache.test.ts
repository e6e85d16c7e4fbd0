import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalGuest } from '../../../../src-main/guests/local.ts';
import { withMetadataCache } from '../../../../src-main/vfs/cache/withMetadataCache.ts';
import type { Attr, CallOpts, DirEntry, Vfs } from '../../../../src-main/vfs/types.ts';
import { wrapGuest } from '../../../../src-main/vfs/wrapGuest.ts';

const o = { signal: new AbortController().signal };

async function names(v: Vfs, p: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of v.readdir(p, o)) out.push(e.name);
  return out;
}

describe('metadata cache over the local guest', () => {
  let dir: string;
  let local: LocalGuest;
  let clock = 1_000_000;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-cache-'));
    writeFileSync(join(dir, 'f'), 'one');
    local = await LocalGuest.open({ kind: 'local', path: dir, readOnly: false });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('does not see an outside change until expiry', async () => {
    const v = withMetadataCache(local, { policy: 'metadata', expiryMs: 5_000, now: () => clock });
    expect((await v.getattr('/f', o)).size).toBe(3);
    expect(await names(v, '/')).toEqual(['f']);
    writeFileSync(join(dir, 'f'), 'longer');
    writeFileSync(join(dir, 'g'), '');
    expect((await v.getattr('/f', o)).size).toBe(3);
    expect(await names(v, '/')).toEqual(['f']);
    clock += 5_001;
    expect((await v.getattr('/f', o)).size).toBe(6);
    expect(await names(v, '/')).toEqual(['f', 'g']);
  });

  it('sees its own changes at once', async () => {
    const v = withMetadataCache(local, { policy: 'metadata', expiryMs: 60_000, now: () => clock });
    expect(await names(v, '/')).toEqual(['f', 'g']);
    const h = await v.create!('/h', 0o644, o);
    await h.write!(0, Buffer.from('12345'), o);
    expect((await v.getattr('/h', o)).size).toBe(5);
    await h.close();
    expect(await names(v, '/')).toEqual(['f', 'g', 'h']);
    await v.rename!('/h', '/i', o);
    expect(await names(v, '/')).toEqual(['f', 'g', 'i']);
    await expect(v.getattr('/h', o)).rejects.toMatchObject({ kind: 'NotExist' });
    await v.unlink!('/i', o);
    await v.unlink!('/g', o);
    expect(await names(v, '/')).toEqual(['f']);
  });

  it('forgets what the blocking calls of an open file change (FileHandle.now), through the deadlines too', async () => {
    const v = wrapGuest(local, { cacheExpiryMs: 60_000 });
    const h = await v.create!('/n', 0o600, o);
    expect(h.now).toBeDefined();
    expect((await v.getattr('/n', o)).size).toBe(0);
    expect(h.now!.write(0, Buffer.from('1234567'))).toBe(7);
    expect((await v.getattr('/n', o)).size).toBe(7);
    h.now!.setattr!({ mode: 0o4640, mtime: 1_600_000_000_500, mtimeNs: 1_600_000_000_500_000_001n });
    const a = await v.getattr('/n', o);
    expect([a.mode, a.mtimeNs]).toEqual([0o4640, 1_600_000_000_500_000_001n]);
    expect(h.now!.stat!()).toMatchObject({ size: 7, mode: 0o4640, mtimeNs: 1_600_000_000_500_000_001n });
    const buf = Buffer.alloc(16);
    expect(h.now!.readInto(buf, 2)).toBe(5);
    expect(buf.subarray(0, 5).toString()).toBe('34567');
    await h.close();
    expect(() => h.now!.stat!()).toThrow(expect.objectContaining({ kind: 'Closed' }));
    await v.unlink!('/n', o);
  });

  it('policy off always asks the guest', async () => {
    const v = withMetadataCache(local, { policy: 'off', expiryMs: 60_000 });
    expect(v).toBe(local);
    const w = wrapGuest(local, { cachePolicy: 'off', timeoutMs: 1_000 });
    writeFileSync(join(dir, 'f'), 'a');
    expect((await w.getattr('/f', o)).size).toBe(1);
    writeFileSync(join(dir, 'f'), 'ab');
    expect((await w.getattr('/f', o)).size).toBe(2);
  });

  it('keeps immutable attributes past the expiry, within the LRU bound', async () => {
    let calls = 0;
    const attr = (ino: number): Attr => ({ type: 'file', mode: 0o444, size: ino, nlink: 1, uid: 0, gid: 0, ino, mtime: 0, atime: 0, ctime: 0, immutable: true });
    // A guest of immutable content that counts how often it is asked.
    const counting: Vfs = {
      name: 'counting', readOnly: true,
      getattr: async (p: string) => { calls++; return attr(Number(p.slice(1))); },
      readdir: async function* (_p: string, _o: CallOpts): AsyncIterable<DirEntry> {},
      open: () => Promise.reject(new Error('unused')),
      readlink: () => Promise.reject(new Error('unused')),
      statfs: () => Promise.reject(new Error('unused')),
      getxattr: async () => undefined, listxattr: async () => [], close: async () => {},
    };
    const v = withMetadataCache(counting, { policy: 'metadata', expiryMs: 10, maxAttrs: 2, now: () => clock });
    await v.getattr('/1', o);
    await Promise.all([v.getattr('/2', o), v.getattr('/2', o)]);
    expect(calls).toBe(2);
    clock += 1_000_000;
    await v.getattr('/1', o);
    await v.getattr('/2', o);
    expect(calls).toBe(2);
    await v.getattr('/3', o); // evicts /1, the least recently used
    await v.getattr('/1', o);
    expect(calls).toBe(4);
  });
});

describe('metadata cache: lookups after a listing (issue 11)', () => {
  /** A guest of `n` immutable files under /d that counts its getattr calls. */
  function counting(n: number): Vfs & { getattrs: number } {
    const attr = (ino: number): Attr => ({ type: 'file', mode: 0o444, size: ino, nlink: 1, uid: 0, gid: 0, ino, mtime: 0, atime: 0, ctime: 0, immutable: true });
    const g = {
      name: 'counting',
      readOnly: true,
      getattrs: 0,
      async getattr(path: string): Promise<Attr> {
        g.getattrs++;
        if (path === '/d' || path === '/') return { ...attr(1), type: 'dir' };
        return attr(Number(path.slice(4)));
      },
      async *readdir(): AsyncGenerator<DirEntry> {
        for (let i = 0; i < n; i++) yield { name: `f${i}`, attr: attr(i) };
      },
      async close(): Promise<void> {},
    };
    return g as unknown as Vfs & { getattrs: number };
  }

  it('answers a listed folder\'s children from the listing, without the guest, and for cachedAttr', async () => {
    const guest = counting(3000);
    const v = withMetadataCache(guest, { policy: 'metadata', expiryMs: 1_000 });
    expect((await v.getattr('/d', o)).type).toBe('dir');
    let n = 0;
    for await (const _ of v.readdir('/d', o)) n++;
    expect(n).toBe(3000);
    const before = guest.getattrs;
    for (const i of [0, 1234, 2999]) expect((await v.getattr(`/d/f${i}`, o)).size).toBe(i);
    expect(v.cachedAttr!('/d/f77')?.size).toBe(77);
    expect(v.cachedAttr!('/d/nope')).toBeUndefined();
    expect(guest.getattrs).toBe(before);
  });

  it('forgets one path\'s attributes when told (forgetAttr), kept or answered from its folder\'s listing', async () => {
    const guest = counting(10);
    const v = withMetadataCache(guest, { policy: 'metadata', expiryMs: 60_000 });
    expect((await v.getattr('/d/f3', o)).size).toBe(3);
    for await (const _ of v.readdir('/d', o));
    const before = guest.getattrs;
    await v.getattr('/d/f3', o);
    await v.getattr('/d/f4', o);
    expect(guest.getattrs).toBe(before);
    v.forgetAttr!('/d/f3');
    v.forgetAttr!('/d/f4');
    expect(v.cachedAttr!('/d/f3')).toBeUndefined();
    expect(v.cachedAttr!('/d/f4')).toBeUndefined();
    expect((await v.getattr('/d/f4', o)).size).toBe(4);
    expect(guest.getattrs).toBe(before + 1);
    expect(v.cachedAttr!('/d/f5')?.size).toBe(5);
  });

  it('keeps the entries of a listing too big to keep whole one by one', async () => {
    const guest = counting(500);
    const v = withMetadataCache(guest, { policy: 'metadata', expiryMs: 1_000, maxListing: 100 });
    await v.getattr('/d', o);
    for await (const _ of v.readdir('/d', o));
    const before = guest.getattrs;
    expect((await v.getattr('/d/f450', o)).size).toBe(450);
    expect(guest.getattrs).toBe(before);
  });
});

describe('metadata cache: close-to-open over listed attributes (issues 9 and 11)', () => {
  it('asks the guest again for a listed file being opened, so no old size is read with new bytes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-cache-cto-'));
    try {
      writeFileSync(join(dir, 'f'), 'version2-');
      const local = await LocalGuest.open({ kind: 'local', path: dir, readOnly: false });
      const v = withMetadataCache(local, { policy: 'metadata', expiryMs: 60_000 });
      for await (const _ of v.readdir('/', o));
      expect((await v.getattr('/f', o)).size).toBe(9);
      writeFileSync(join(dir, 'f'), 'version2-longer');
      const h = await v.open('/f', {}, o);
      const size = (await v.getattr('/f', o)).size;
      const bytes = await h.read(0, 100, o);
      await h.close();
      expect(size).toBe(15);
      expect(Buffer.from(bytes).toString()).toBe('version2-longer');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
