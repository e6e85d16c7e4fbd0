import { appendFileSync, chmodSync, closeSync, linkSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalAttrCache, MAX_AGE_MS } from '../../../../src-main/guests/localAttrCache.ts';
import type { Attr } from '../../../../src-main/vfs/types.ts';
import { inotifyWatches } from '../../../helpers/heldFds.ts';

// The cache's own rules on a real folder with real inotify events (the guest's use of it,
// through the NFS host and FUSE, is test/integration/issue-11-local-attr-cache.test.ts).

const linux = process.platform === 'linux';

function attrOf(p: string): Attr {
  const s = lstatSync(p);
  return { type: s.isDirectory() ? 'dir' : 'file', mode: s.mode & 0o7777, size: s.size, nlink: s.nlink, uid: s.uid, gid: s.gid, ino: s.ino, mtime: s.mtimeMs, atime: s.atimeMs, ctime: s.ctimeMs };
}

describe.skipIf(!linux)('LocalAttrCache', () => {
  let base: string;
  let root: string;
  let clock: number;
  let cache: LocalAttrCache;
  /** Watches the folder of `parts` and those above it, by their real paths (the guest passes /proc/self/fd links). */
  const watch = (parts: string[]): boolean => cache.watch(parts, (i) => ({ path: join(root, ...parts.slice(0, i)), release: () => {} }));
  /** Reads and keeps `path` as the guest does: watch its folder first, then read. */
  const keep = (path: string): Attr => {
    const parts = path.split('/').filter(Boolean);
    expect(watch(parts.slice(0, -1))).toBe(true);
    const a = attrOf(join(root, path));
    cache.keep(path, a, cache.watched(path));
    return a;
  };
  const attr = (path: string): Attr | undefined => {
    cache.sync();
    return cache.attr(path);
  };

  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'berth-attrcache-unit-'));
    root = join(base, 'root');
    mkdirSync(join(root, 'a/b'), { recursive: true });
    writeFileSync(join(root, 'a/b/f'), 'one');
    clock = 1_000_000;
    cache = LocalAttrCache.open((p) => root + p, 16, () => clock)!;
    expect(cache).toBeDefined();
  });

  afterEach(() => {
    cache.close();
    rmSync(base, { recursive: true, force: true });
  });

  it('answers what it kept until an event names it', () => {
    keep('/a/b/f');
    expect(attr('/a/b/f')?.size).toBe(3);
    appendFileSync(join(root, 'a/b/f'), 'two');
    expect(attr('/a/b/f')).toBeUndefined();
    expect(cache.stats.events).toBeGreaterThan(0);
  });

  it('settled(): one drain before a call that changes nothing; a change made during it is seen after it', () => {
    keep('/a/b/f');
    const drains = cache.stats.drains;
    const inside = cache.settled(() => {
      appendFileSync(join(root, 'a/b/f'), 'two');
      // Concurrent with the call: answered as before it.
      return attr('/a/b/f')?.size;
    }, undefined);
    expect(inside).toBe(3);
    expect(cache.stats.drains - drains).toBe(1);
    expect(attr('/a/b/f')).toBeUndefined();
  });

  it('a rename of a folder above drops what was kept below it (its paths name other nodes)', () => {
    keep('/a/b/f');
    renameSync(join(root, 'a'), join(root, 'z'));
    mkdirSync(join(root, 'a/b'), { recursive: true });
    expect(attr('/a/b/f')).toBeUndefined();
    expect(cache.watched('/a/b')).toBe(false);
    expect(cache.watched('/a')).toBe(false);
  });

  it('keeps no file with more than one link, nor a folder that is not itself watched', () => {
    linkSync(join(root, 'a/b/f'), join(root, 'a/g'));
    keep('/a/b/f');
    expect(attr('/a/b/f')).toBeUndefined();
    rmSync(join(root, 'a/g'));
    keep('/a/b'); // the folder /a/b is watched (its own watch exists): kept
    expect(attr('/a/b')?.type).toBe('dir');
    mkdirSync(join(root, 'a/c'));
    keep('/a/c'); // not watched itself: not kept
    expect(attr('/a/c')).toBeUndefined();
  });

  it('a new link to a kept file, made in a watched folder, forgets it (its link count changed)', () => {
    keep('/a/b/f');
    expect(watch(['a'])).toBe(true);
    linkSync(join(root, 'a/b/f'), join(root, 'a/g')); // IN_CREATE of g in /a; nothing in /a/b
    expect(attr('/a/b/f')).toBeUndefined();
  });

  it('a read forgets the file: IN_ACCESS is how an access time changed alone is reported', () => {
    utimesSync(join(root, 'a/b/f'), new Date(5_000_000), new Date()); // atime before mtime: a read under relatime updates it
    keep('/a/b/f');
    readFileSync(join(root, 'a/b/f'));
    expect(attr('/a/b/f')).toBeUndefined();
  });

  it('a hard link made from a folder not watched is not seen, so nothing is kept past MAX_AGE_MS', () => {
    keep('/a/b/f');
    const outside = join(base, 'outside');
    linkSync(join(root, 'a/b/f'), outside); // IN_ATTRIB on the file's own inode only
    appendFileSync(outside, 'more'); // reported to the watches of `outside`'s folder only
    expect(attr('/a/b/f')?.size, 'the limit this bound exists for').toBe(3);
    clock += MAX_AGE_MS + 1;
    expect(attr('/a/b/f')).toBeUndefined();
  });

  it("a folder's own attributes on a local disk outlive MAX_AGE_MS, and go at the first event that changes them", () => {
    const local = LocalAttrCache.open((p) => root + p, 16, () => clock, (p) => p !== '/a')!;
    try {
      const keepDir = (path: string): void => {
        const parts = path.split('/').filter(Boolean);
        expect(local.watch(parts, (i) => ({ path: join(root, ...parts.slice(0, i)), release: () => {} }))).toBe(true);
        local.keep(path, attrOf(join(root, path)), true);
      };
      const dirAttr = (path: string): Attr | undefined => {
        local.sync();
        return local.attr(path);
      };
      keepDir('/a/b');
      keepDir('/a');
      clock += 10 * MAX_AGE_MS;
      expect(dirAttr('/a/b')?.type, 'on a local disk: every change to it is reported').toBe('dir');
      expect(dirAttr('/a'), 'not on a local disk (here: said so): bounded as before').toBeUndefined();
      // a chmod, new times, a name made in it, a read of it: each forgets it
      const b = join(root, 'a/b');
      for (const change of [() => chmodSync(b, 0o700), () => utimesSync(b, new Date(), new Date(5_000_000)), () => writeFileSync(join(b, 'new'), ''), () => readdirSync(b)]) {
        keepDir('/a/b');
        expect(dirAttr('/a/b')?.type).toBe('dir');
        change();
        expect(dirAttr('/a/b'), String(change)).toBeUndefined();
      }
    } finally {
      local.close();
    }
  });

  it('a listing is kept whole only when every subfolder in it is watched', () => {
    expect(watch(['a'])).toBe(true);
    const entries = [{ name: 'b', attr: attrOf(join(root, 'a/b')) }];
    cache.keepListing('/a', entries);
    expect(cache.listing('/a')).toBeUndefined();
    expect(watch(['a', 'b'])).toBe(true);
    cache.keepListing('/a', entries);
    expect(cache.listing('/a')).toBe(entries);
    // A change inside the subfolder changes its times, which the parent's listing holds.
    writeFileSync(join(root, 'a/b/new'), '');
    cache.sync();
    expect(cache.listing('/a')).toBeUndefined();
  });

  it('a change to one file of a kept listing forgets that file and the listing, not the other files', () => {
    writeFileSync(join(root, 'a/b/g'), 'three');
    writeFileSync(join(root, 'a/b/h'), 'four');
    expect(watch(['a', 'b'])).toBe(true);
    const entries = ['f', 'g', 'h'].map((name) => ({ name, attr: attrOf(join(root, 'a/b', name)) }));
    cache.keepListing('/a/b', entries);
    expect(cache.listing('/a/b')).toBe(entries);
    rmSync(join(root, 'a/b/f')); // as `rm -rf` does, one file after another
    expect(attr('/a/b/f')).toBeUndefined();
    expect(cache.listing('/a/b')).toBeUndefined();
    const hits = cache.stats.hits;
    expect(attr('/a/b/g')?.size).toBe(5);
    expect(attr('/a/b/h')?.size).toBe(4);
    expect(cache.stats.hits).toBe(hits + 2);
    appendFileSync(join(root, 'a/b/g'), '!');
    expect(attr('/a/b/g')).toBeUndefined();
    expect(attr('/a/b/h')?.size).toBe(4);
    // A new link to one of them, made elsewhere in a watched folder: every file kept in /a/b goes.
    expect(watch(['a'])).toBe(true);
    linkSync(join(root, 'a/b/h'), join(root, 'a/h2'));
    expect(attr('/a/b/h')).toBeUndefined();
    clock += MAX_AGE_MS + 1;
    expect(attr('/a/b/g')).toBeUndefined();
  });

  it("a folder this guest removed takes its watch with it; one removed by others, or renamed, has its watch removed", () => {
    // Made before they are watched: no creation event pending to drop a watch first.
    for (let k = 0; k < 6; k++) mkdirSync(join(root, `a/s${k}`));
    for (let k = 0; k < 6; k++) expect(watch(['a', `s${k}`])).toBe(true);
    cache.sync();
    const watched = cache.stats.watches;
    const held = inotifyWatches();
    // s0, s1 removed by the guest (nothing holds them: the kernel drops their watches with them);
    // s2, s3 removed by others while a descriptor of each is still open (as one the guest keeps
    // until its next use), which holds the folder and would hold its watch; s4, s5 renamed away.
    for (let k = 0; k < 2; k++) {
      rmSync(join(root, `a/s${k}`), { recursive: true });
      cache.removedHere(`/a/s${k}`);
    }
    const open = [2, 3].map((k) => openSync(join(root, `a/s${k}`), 'r'));
    try {
      for (let k = 2; k < 4; k++) rmSync(join(root, `a/s${k}`), { recursive: true });
      for (let k = 4; k < 6; k++) renameSync(join(root, `a/s${k}`), join(root, `moved${k}`));
      cache.sync();
      expect(cache.stats.watches).toBe(watched - 6);
      expect(inotifyWatches()).toBe(held - 6);
    } finally {
      for (const fd of open) closeSync(fd);
    }
    // Their IN_IGNORED events, for watches no longer known, are passed over.
    cache.sync();
    expect(cache.stats.watches).toBe(watched - 6);
    expect(watch(['a', 'b'])).toBe(true);
  });

  it('stays under its bound by dropping the least recently used folders', () => {
    for (let k = 0; k < 40; k++) {
      mkdirSync(join(root, `d${k}`));
      expect(watch([`d${k}`])).toBe(true);
    }
    expect(cache.stats.watches).toBeLessThanOrEqual(16);
    expect(cache.stats.evicted).toBeGreaterThan(0);
  });
});
