import { describe, expect, it } from 'vitest';
import { DirListingCache, type Listing } from '../../../../../src-main/nfs/server/DirListingCache.ts';
import { EncodedEntries } from '../../../../../src-main/nfs/server/EncodedEntries.ts';
import { HandleTable } from '../../../../../src-main/nfs/server/HandleTable.ts';
import { readPostOpAttr } from '../../../../../src-main/nfs/nfs3/attrs.ts';
import { XdrReader } from '../../../../../src-main/nfs/xdr/XdrReader.ts';
import type { DirEntry, Vfs } from '../../../../../src-main/vfs/types.ts';

function entry(name: string, size: number): DirEntry {
  return { name, attr: { type: 'file', mode: 0o644, size, nlink: 1, uid: 0, gid: 0, ino: 1000 + name.length, mtime: 1_700_000_000_000, atime: 1_700_000_000_000, ctime: 1_700_000_000_000 } };
}

/** A guest whose synchronous face answers the listings in `folders` (the very arrays, as a guest that keeps them does). */
function guest(folders: Map<string, readonly DirEntry[]>): Vfs {
  return { now: { readdir: (path: string) => folders.get(path) } } as unknown as Vfs;
}

/** The first page of a snapshot as READDIRPLUS encodes it (replyPage in procedures/readdirplus.ts). */
function firstPage(l: Listing, handles: HandleTable): Buffer[] {
  l.plus ??= new EncodedEntries(l.path, l.entries, true, handles, 1n, l.previous?.plus);
  return l.plus.page(0, 1 << 16, 0).parts;
}

function sizes(parts: Buffer[]): number[] {
  const r = new XdrReader(Buffer.concat(parts));
  const out: number[] = [];
  while (r.remaining > 0) {
    r.bool();
    r.uint64();
    r.string(255);
    r.uint64();
    out.push(readPostOpAttr(r)!.size);
    r.bool();
    r.opaque(64);
  }
  return out;
}

describe('DirListingCache: a folder listed again', () => {
  it('reuses the encoding of the very same guest listing, even after many other folders were listed in between', () => {
    const folders = new Map<string, readonly DirEntry[]>([['/d', [entry('a', 1), entry('bb', 2)]]]);
    for (let i = 0; i < 100; i++) folders.set(`/other${i}`, [entry(`x${i}`, i)]);
    const handles = new HandleTable();
    const cache = new DirListingCache(guest(folders));
    const first = firstPage(cache.getNow('/d', 0n, 0n)!, handles);
    // A walk of a tree: every other folder is listed before /d comes round again.
    for (let i = 0; i < 100; i++) firstPage(cache.getNow(`/other${i}`, 0n, 0n)!, handles);
    const again = firstPage(cache.getNow('/d', 0n, 0n)!, handles);
    // The same bytes, not a copy: the chunk encoded the first time.
    expect([again[0]!.buffer, again[0]!.byteOffset]).toEqual([first[0]!.buffer, first[0]!.byteOffset]);
    expect(again[0]!.buffer).toBe(first[0]!.buffer);
    expect(sizes(again)).toEqual([1, 2]);
  });

  it('encodes a changed listing afresh: the client sees the new attributes', () => {
    const folders = new Map<string, readonly DirEntry[]>([['/d', [entry('a', 1), entry('bb', 2)]]]);
    for (let i = 0; i < 100; i++) folders.set(`/other${i}`, [entry(`x${i}`, i)]);
    const handles = new HandleTable();
    const cache = new DirListingCache(guest(folders));
    expect(sizes(firstPage(cache.getNow('/d', 0n, 0n)!, handles))).toEqual([1, 2]);
    for (let i = 0; i < 100; i++) firstPage(cache.getNow(`/other${i}`, 0n, 0n)!, handles);
    folders.set('/d', [entry('a', 1), entry('bb', 20)]); // the guest read the folder again: bb grew
    expect(sizes(firstPage(cache.getNow('/d', 0n, 0n)!, handles))).toEqual([1, 20]);
  });
});
