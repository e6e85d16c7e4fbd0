import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalGuest } from '../../../../../src-main/guests/local.ts';
import { DirListingCache, type Listing } from '../../../../../src-main/nfs/server/DirListingCache.ts';
import { EncodedEntries } from '../../../../../src-main/nfs/server/EncodedEntries.ts';
import { HandleTable } from '../../../../../src-main/nfs/server/HandleTable.ts';
import { readPostOpAttr } from '../../../../../src-main/nfs/nfs3/attrs.ts';
import { XdrReader } from '../../../../../src-main/nfs/xdr/XdrReader.ts';

// READDIRPLUS snapshots of the real local guest, whose synchronous face hands out the very
// listing it keeps while inotify proves it fresh: a folder listed again after a whole
// tree walk reuses its encoded entries, and a changed folder is encoded afresh.

/** The first page of a snapshot as READDIRPLUS encodes it (replyPage in procedures/readdirplus.ts). */
function firstPage(l: Listing, handles: HandleTable): Buffer[] {
  l.plus ??= new EncodedEntries(l.path, l.entries, true, handles, 1n, l.previous?.plus);
  return l.plus.page(0, 1 << 16, 0).parts;
}

/** Each entry's name and size, as a client decodes the page. */
function sizes(parts: Buffer[]): Record<string, number> {
  const r = new XdrReader(Buffer.concat(parts));
  const out: Record<string, number> = {};
  while (r.remaining > 0) {
    r.bool();
    r.uint64();
    const name = r.string(255);
    r.uint64();
    out[name] = readPostOpAttr(r)!.size;
    r.bool();
    r.opaque(64);
  }
  return out;
}

describe('DirListingCache: a folder listed again, through the local guest', () => {
  let dir: string;
  let guest: LocalGuest;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-listings-'));
    mkdirSync(join(dir, 'd'));
    writeFileSync(join(dir, 'd/a'), '1');
    writeFileSync(join(dir, 'd/bb'), '22');
    for (let i = 0; i < 100; i++) {
      mkdirSync(join(dir, `o${i}`));
      writeFileSync(join(dir, `o${i}/x`), 'x');
    }
    guest = await LocalGuest.open({ kind: 'local', path: dir, readOnly: false });
  });
  afterAll(async () => {
    await guest.close?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reuses the encoding of the listing the guest kept, after 100 other folders were listed, and encodes a changed one afresh', () => {
    const handles = new HandleTable();
    const cache = new DirListingCache(guest);
    const first = firstPage(cache.getNow('/d', 0n, 0n)!, handles);
    expect(sizes(first)).toEqual({ a: 1, bb: 2 });
    // A walk of a tree: every other folder is listed before /d comes round again.
    for (let i = 0; i < 100; i++) firstPage(cache.getNow(`/o${i}`, 0n, 0n)!, handles);
    const again = firstPage(cache.getNow('/d', 0n, 0n)!, handles);
    // The same bytes, not a copy: the chunk encoded the first time.
    expect([again[0]!.buffer, again[0]!.byteOffset]).toEqual([first[0]!.buffer, first[0]!.byteOffset]);
    expect(again[0]!.buffer).toBe(first[0]!.buffer);
    // Changed in the backing folder: the next listing shows it.
    appendFileSync(join(dir, 'd/bb'), '333');
    for (let i = 0; i < 100; i++) firstPage(cache.getNow(`/o${i}`, 0n, 0n)!, handles);
    expect(sizes(firstPage(cache.getNow('/d', 0n, 0n)!, handles))).toEqual({ a: 1, bb: 5 });
  });
});
