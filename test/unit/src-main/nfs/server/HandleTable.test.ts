import { describe, expect, it } from 'vitest';
import { HandleTable } from '../../../../../src-main/nfs/server/HandleTable.ts';
import { lookupPath } from '../../../../../src-main/nfs/server/names.ts';

describe('HandleTable', () => {
  it('gives each path one stable handle of at most 64 bytes', () => {
    const t = new HandleTable();
    const a = t.handleFor('/a');
    expect(a.length).toBeLessThanOrEqual(64);
    expect(t.handleFor('/a').equals(a)).toBe(true);
    expect(t.pathOf(a)).toBe('/a');
    expect(t.pathOf(t.handleFor('/'))).toBe('/');
  });

  it('moves handles on rename and makes removed ones stale', () => {
    const t = new HandleTable();
    const dir = t.handleFor('/d');
    const child = t.handleFor('/d/x');
    t.rename('/d', '/e');
    expect(t.pathOf(dir)).toBe('/e');
    expect(t.pathOf(child)).toBe('/e/x');
    t.forget('/e');
    expect(() => t.pathOf(child)).toThrow(expect.objectContaining({ status: 70 }));
  });

  it('tells foreign handles (BADHANDLE) from another server instance (STALE)', () => {
    const t = new HandleTable();
    expect(() => t.pathOf(Buffer.alloc(5))).toThrow(expect.objectContaining({ status: 10001 }));
    const other = new HandleTable().handleFor('/');
    expect(() => t.pathOf(other)).toThrow(expect.objectContaining({ status: 70 }));
  });
});

describe('lookupPath', () => {
  it('resolves "." and ".." without leaving the root and refuses "/" and NUL in names', () => {
    expect(lookupPath('/', '..')).toBe('/');
    expect(lookupPath('/a/b', '..')).toBe('/a');
    expect(lookupPath('/a', '.')).toBe('/a');
    expect(lookupPath('/a', 'c')).toBe('/a/c');
    expect(() => lookupPath('/', 'x/y')).toThrow(expect.objectContaining({ status: 22 }));
    expect(() => lookupPath('/', 'x\0')).toThrow(expect.objectContaining({ status: 22 }));
    expect(() => lookupPath('/', 'x'.repeat(256))).toThrow(expect.objectContaining({ status: 63 }));
  });
});

describe('HandleTable bounds (issue 8)', () => {
  it('keeps at most max handles, dropping the least recently used, which then answer STALE', () => {
    const t = new HandleTable(100);
    const first = t.handleFor('/f0');
    const second = t.handleFor('/f1');
    for (let i = 2; i < 99; i++) t.handleFor(`/f${i}`);
    expect(t.size).toBe(100); // with the root
    t.pathOf(first); // used again: not the oldest any more
    for (let i = 99; i < 150; i++) t.handleFor(`/f${i}`);
    expect(t.size).toBe(100);
    expect(t.pathOf(first)).toBe('/f0');
    expect(() => t.pathOf(second)).toThrow(expect.objectContaining({ status: 70 }));
    expect(t.pathOf(t.handleFor('/'))).toBe('/');
  });

  it('moves and forgets whole subtrees, even a folder whose own handle was dropped', () => {
    const t = new HandleTable(4);
    const deep = t.handleFor('/a/b/c');
    t.handleFor('/a');
    t.handleFor('/x');
    t.handleFor('/y'); // the fifth with the root: /a/b/c, the oldest, goes
    expect(() => t.pathOf(deep)).toThrow(expect.objectContaining({ status: 70 }));
    const kept = t.handleFor('/a/b/k');
    t.rename('/a', '/z');
    expect(t.pathOf(kept)).toBe('/z/b/k');
    t.forget('/z');
    expect(() => t.pathOf(kept)).toThrow(expect.objectContaining({ status: 70 }));
    expect(t.size).toBeLessThanOrEqual(4);
  });
});

describe('HandleTable across runs of one export', () => {
  const exportId = Buffer.from('0123456789abcdef', 'hex');

  it("keeps the root's handle; a handle of an earlier run is STALE though the new run gave its id to another path", () => {
    const before = new HandleTable(undefined, exportId);
    const root = before.handleFor('/');
    const a = before.handleFor('/a');
    const after = new HandleTable(undefined, exportId);
    const b = after.handleFor('/b');
    // The same id, handed out again: only the run's bytes tell them apart.
    expect(b.subarray(16).equals(a.subarray(16))).toBe(true);
    expect(after.handleFor('/').equals(root)).toBe(true);
    expect(after.pathOf(root)).toBe('/');
    expect(after.pathAt(root, 0)).toBe('/');
    expect(() => after.pathOf(a)).toThrow(expect.objectContaining({ status: 70, message: expect.stringMatching(/before the server restarted/) }));
    expect(after.pathAt(a, 0)).toBeUndefined();
    expect(after.pathOf(b)).toBe('/b');
  });

  it("refuses another export's root (STALE) and a root-run handle that is not the root's", () => {
    const t = new HandleTable(undefined, exportId);
    expect(() => t.pathOf(new HandleTable().handleFor('/'))).toThrow(expect.objectContaining({ status: 70 }));
    const forged = Buffer.from(t.handleFor('/'));
    forged.writeUInt32BE(7, 20);
    expect(() => t.pathOf(forged)).toThrow(expect.objectContaining({ status: 70 }));
    expect(t.pathAt(forged, 0)).toBeUndefined();
  });
});

describe('HandleTable snapshots (a clean stop hands the table to the next run)', () => {
  const exportId = Buffer.from('00112233445566778899aabbccddeeff', 'hex').subarray(0, 8);

  it('goes on with the same handles, the least recently used first out, and new ids past the old', () => {
    const before = new HandleTable(4, exportId);
    const [a, b, c] = ['/a', '/d/b', '/d/ünï c'].map((p) => before.handleFor(p)) as [Buffer, Buffer, Buffer];
    before.pathOf(a); // /a is now the most recently used: /d/b is the least
    const after = HandleTable.fromSnapshot(before.snapshot(), exportId, 4)!;
    // Full (4 with the root): the first new path drops the least recently used, /d/b.
    const d = after.handleFor('/new');
    expect([a, b, c].some((h) => h.equals(d))).toBe(false);
    expect(() => after.pathOf(b)).toThrow(expect.objectContaining({ status: 70 }));
    expect([after.pathOf(a), after.pathOf(c), after.pathOf(d)]).toEqual(['/a', '/d/ünï c', '/new']);
    expect(after.handleFor('/a').equals(a)).toBe(true);
    // Renames work on the restored child index.
    after.rename('/d', '/e');
    expect(after.pathOf(c)).toBe('/e/ünï c');
  });

  it('keeps a path whose names are not UTF-8 as exactly its bytes, apart from its neighbours and from U+FFFD', () => {
    const before = new HandleTable(undefined, exportId);
    const paths = ['/caf\udce9', '/caf\udce8', '/caf\ufffd', '/d\udcff/x\udc80y'];
    const fhs = paths.map((p) => before.handleFor(p));
    const bytes = before.snapshot();
    // On disk each path is its bytes: Latin-1 "caf\xe9" as 63 61 66 e9, not as U+FFFD's ef bf bd.
    expect(bytes.includes(Buffer.from('/caf\xe9', 'latin1'))).toBe(true);
    expect(bytes.includes(Buffer.from('/d\xff/x\x80y', 'latin1'))).toBe(true);
    const after = HandleTable.fromSnapshot(bytes, exportId)!;
    expect(fhs.map((fh) => after.pathOf(fh))).toEqual(paths);
    // A string no bytes spell (a guest's, never a client's) is left out: its handle is STALE next run.
    const odd = before.handleFor('/odd\ud800');
    const next = HandleTable.fromSnapshot(before.snapshot(), exportId)!;
    expect(() => next.pathOf(odd)).toThrow(expect.objectContaining({ status: 70 }));
    expect(next.pathOf(fhs[0]!)).toBe('/caf\udce9');
  });

  it("refuses another export's snapshot and bytes that are not a whole one", () => {
    const t = new HandleTable(undefined, exportId);
    t.handleFor('/x');
    const bytes = t.snapshot();
    expect(HandleTable.fromSnapshot(bytes, Buffer.alloc(8))).toBeUndefined();
    expect(HandleTable.fromSnapshot(bytes.subarray(0, bytes.length - 1), exportId)).toBeUndefined();
    expect(HandleTable.fromSnapshot(Buffer.concat([bytes, Buffer.alloc(1)]), exportId)).toBeUndefined();
    expect(HandleTable.fromSnapshot(Buffer.from('not a snapshot at all, but long enough'), exportId)).toBeUndefined();
    // Only paths the table itself could hold: nothing that climbs out of the export.
    for (const bad of ['/../etc/passwd', '/a/./b', '/a//b', 'a', '/a/']) {
      const forged = Buffer.from(bytes);
      const path = Buffer.from(bad);
      // The snapshot ends with /x's length (4 bytes) and its 2 bytes: another path in its place.
      const head = forged.subarray(0, forged.length - 2);
      head.writeUInt32BE(path.length, head.length - 4);
      expect(HandleTable.fromSnapshot(Buffer.concat([head, path]), exportId)).toBeUndefined();
    }
    // The same bytes with the path they held are taken.
    const path = Buffer.from('/x');
    const head = Buffer.from(bytes).subarray(0, bytes.length - 2);
    expect(HandleTable.fromSnapshot(Buffer.concat([head, path]), exportId)?.size).toBe(2);
  });
});
