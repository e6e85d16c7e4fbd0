import { describe, expect, it } from 'vitest';
import { EncodedEntries } from '../../../../../src-main/nfs/server/EncodedEntries.ts';
import { HANDLE_BYTES, HandleTable } from '../../../../../src-main/nfs/server/HandleTable.ts';
import { readPostOpAttr } from '../../../../../src-main/nfs/nfs3/attrs.ts';
import { XdrReader } from '../../../../../src-main/nfs/xdr/XdrReader.ts';
import type { DirEntry } from '../../../../../src-main/vfs/types.ts';

function entries(n: number): DirEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    // names of varied lengths (and one multi-byte), so entry sizes differ
    name: i === 7 ? 'ünïcødé-名前' : `f${'x'.repeat(i % 13)}${i}`,
    attr: { type: i % 5 === 0 ? 'dir' : 'file', mode: 0o644, size: i * 1000, nlink: 1, uid: 1000, gid: 100, ino: 2 ** 40 + i, mtime: 1_700_000_000_123, atime: 1_700_000_000_000, ctime: 1_700_000_000_456 },
  }));
}

/** The paging rule READDIRPLUS used before entries were encoded once (RFC 1813 §3.3.17). */
function referenceEnd(list: DirEntry[], start: number, budget: number, dircount: number): number {
  let used = 0;
  let dirUsed = 0;
  let end = start;
  for (; end < list.length; end++) {
    const nameBytes = 4 + ((Buffer.byteLength(list[end]!.name) + 3) & ~3);
    const base = 8 + nameBytes + 8;
    const size = 4 + base + 4 + 84 + 4 + 4 + HANDLE_BYTES;
    if (used + size > budget || (dircount > 0 && dirUsed + base > dircount && end > start)) break;
    used += size;
    dirUsed += base;
  }
  return end;
}

describe('EncodedEntries: READDIR(PLUS) pages as slices of entries encoded once', () => {
  it('pages like the per-entry encoder did and decodes to every entry, across chunk bounds', () => {
    const list = entries(700);
    const handles = new HandleTable();
    const enc = new EncodedEntries('/d', list, true, handles, 7n);
    for (const [budget, dircount] of [
      [8192, 2048],
      [4000, 0],
      [65536, 8192],
      [1 << 20, 0],
    ] as const) {
      let start = 0;
      const seen: string[] = [];
      while (start < list.length) {
        const page = enc.page(start, budget, dircount);
        expect(page.end).toBe(referenceEnd(list, start, budget, dircount));
        const r = new XdrReader(Buffer.concat(page.parts));
        for (let i = start; i < page.end; i++) {
          expect(r.bool()).toBe(true);
          expect(r.uint64Number()).toBe(list[i]!.attr.ino);
          const name = r.string(255);
          expect(r.uint64Number()).toBe(i + 1); // the cookie
          const a = readPostOpAttr(r)!;
          expect(a).toMatchObject({ size: list[i]!.attr.size, ino: list[i]!.attr.ino, type: list[i]!.attr.type, mtime: list[i]!.attr.mtime });
          expect(r.bool()).toBe(true);
          expect(handles.pathOf(r.opaque(64))).toBe(`/d/${name}`);
          seen.push(name);
        }
        expect(r.remaining).toBe(0);
        start = page.end;
      }
      expect(seen).toEqual(list.map((e) => e.name));
    }
  });

  it('takes nothing when one entry does not fit the budget (the caller answers TOOSMALL)', () => {
    const enc = new EncodedEntries('/', entries(3), true, new HandleTable(), 0n);
    expect(enc.page(0, 100, 0).end).toBe(0);
    expect(enc.page(3, 100, 0)).toEqual({ parts: [], end: 3 });
  });

  it('encodes READDIR entries (entry3) without attributes or handles', () => {
    const list = entries(300);
    const enc = new EncodedEntries('/', list, false, new HandleTable(), 0n);
    const page = enc.page(250, 1 << 16, 0);
    expect(page.end).toBe(300);
    const r = new XdrReader(Buffer.concat(page.parts));
    for (let i = 250; i < 300; i++) {
      expect(r.bool()).toBe(true);
      expect(r.uint64Number()).toBe(list[i]!.attr.ino);
      expect(r.string(255)).toBe(list[i]!.name);
      expect(r.uint64Number()).toBe(i + 1);
    }
    expect(r.remaining).toBe(0);
  });

  it('lists a name that is not UTF-8 as exactly its bytes, with the handle of its own path', () => {
    const names = ['caf\udce9', 'caf\udce8', 'caf\ufffd'];
    const list = entries(3).map((e, i) => ({ ...e, name: names[i]! }));
    const handles = new HandleTable();
    const page = new EncodedEntries('/d', list, true, handles, 7n).page(0, 1 << 16, 0);
    expect(page.end).toBe(3);
    const bytes = Buffer.concat(page.parts);
    const r = new XdrReader(bytes);
    for (const [i, want] of [Buffer.from('caf\xe9', 'latin1'), Buffer.from('caf\xe8', 'latin1'), Buffer.from('caf\ufffd')].entries()) {
      r.bool();
      r.uint64Number();
      expect(Buffer.from(r.opaque(255))).toEqual(want);
      r.uint64Number();
      readPostOpAttr(r);
      r.bool();
      expect(handles.pathOf(r.opaque(64))).toBe(`/d/${names[i]!}`);
    }
    expect(r.remaining).toBe(0);
  });

  it('reuses the previous snapshot\'s bytes only where its entries are the same, with the same handles', () => {
    const handles = new HandleTable();
    const first = entries(600);
    const a = new EncodedEntries('/d', first, true, handles, 7n);
    const pageA = a.page(0, 1 << 22, 0);
    expect(pageA.end).toBe(600);
    // Listed again: the same entries (new objects, freshly read), but one size changed in chunk 1.
    const second = first.map((e) => ({ name: e.name, attr: { ...e.attr } }));
    second[300] = { name: second[300]!.name, attr: { ...second[300]!.attr, size: 123_456 } };
    const b = new EncodedEntries('/d', second, true, handles, 7n, a);
    const pageB = b.page(0, 1 << 22, 0);
    expect(pageB.parts[0]!.buffer).toBe(pageA.parts[0]!.buffer); // chunk 0: the same bytes, not encoded again
    expect(pageB.parts[1]!.buffer).not.toBe(pageA.parts[1]!.buffer);
    expect(pageB.parts[2]!.buffer).toBe(pageA.parts[2]!.buffer);
    const r = new XdrReader(Buffer.concat(pageB.parts));
    for (let i = 0; i < 600; i++) {
      r.bool();
      r.uint64Number();
      r.string(255);
      r.uint64Number();
      expect(readPostOpAttr(r)!.size).toBe(second[i]!.attr.size);
      r.bool();
      r.opaque(64);
    }
    // A handle dropped since (a rename, a remove) means no reuse at all.
    handles.forget('/d/f0');
    const c = new EncodedEntries('/d', second, true, handles, 7n, b);
    const pageC = c.page(0, 1 << 22, 0);
    expect(pageC.parts[0]!.buffer).not.toBe(pageB.parts[0]!.buffer);
    expect(pageC.parts[2]!.buffer).not.toBe(pageB.parts[2]!.buffer);
  });
});
