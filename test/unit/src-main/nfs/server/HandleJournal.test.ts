import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HandleJournal } from '../../../../../src-main/nfs/server/HandleJournal.ts';
import { HandleTable } from '../../../../../src-main/nfs/server/HandleTable.ts';

const EXPORT = Buffer.from('01234567');
const STALE = expect.objectContaining({ status: 70 });

describe('HandleJournal', () => {
  let dir: string;
  let file: string;
  const errors: Error[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-journal-'));
    file = join(dir, 'x.handles.journal');
    errors.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const start = (t: HandleTable, compactAt?: number): HandleJournal => {
    const j = HandleJournal.start(file, t, (e) => errors.push(e), compactAt);
    expect(j).toBeDefined();
    return j!;
  };

  it('hands a table that was never stopped cleanly to the next run: ids handed out, renames and removals', () => {
    const t = new HandleTable(undefined, EXPORT);
    const j = start(t);
    const a = t.handleFor('/a');
    const d = t.handleFor('/d');
    const x = t.handleFor('/d/x');
    const gone = t.handleFor('/gone');
    const over = t.handleFor('/over');
    t.rename('/d', '/e');
    t.rename('/a', '/over'); // replaces /over: its handle is STALE
    t.forget('/gone');
    j.flush();
    // No close: the run ended here.
    const next = HandleJournal.recover(file, EXPORT)!;
    expect(next.pathOf(a)).toBe('/over');
    expect(next.pathOf(d)).toBe('/e');
    expect(next.pathOf(x)).toBe('/e/x');
    expect(() => next.pathOf(gone)).toThrow(STALE);
    expect(() => next.pathOf(over)).toThrow(STALE);
    // A new path gets an id none of the old handles had.
    const fresh = next.handleFor('/fresh');
    for (const old of [a, d, x, gone, over]) expect(fresh.equals(old)).toBe(false);
    expect(errors).toEqual([]);
  });

  it('goes on from a table it was started with, and from its own recovery', () => {
    const first = new HandleTable(undefined, EXPORT);
    const a = first.handleFor('/a');
    start(first).flush();
    const second = HandleJournal.recover(file, EXPORT)!;
    const j = start(second);
    const b = second.handleFor('/b');
    j.flush();
    const third = HandleJournal.recover(file, EXPORT)!;
    expect(third.pathOf(a)).toBe('/a');
    expect(third.pathOf(b)).toBe('/b');
  });

  it('has on disk only what was flushed (before a reply): changes not yet flushed are not there', () => {
    const t = new HandleTable(undefined, EXPORT);
    const j = start(t);
    const a = t.handleFor('/a');
    j.flush();
    const b = t.handleFor('/b');
    const next = HandleJournal.recover(file, EXPORT)!;
    expect(next.pathOf(a)).toBe('/a');
    expect(() => next.pathOf(b)).toThrow(STALE);
  });

  it('stops at a record cut short, keeping every whole one before it', () => {
    const t = new HandleTable(undefined, EXPORT);
    const j = start(t);
    const a = t.handleFor('/a');
    j.flush();
    const whole = readFileSync(file).length;
    const b = t.handleFor('/bbbbbbbb');
    j.flush();
    truncateSync(file, whole + 10); // in the middle of /bbbbbbbb's record
    let next = HandleJournal.recover(file, EXPORT)!;
    expect(next.pathOf(a)).toBe('/a');
    expect(() => next.pathOf(b)).toThrow(STALE);
    // Bytes that are not a record (zeros after a power cut) end it too.
    truncateSync(file, whole);
    appendFileSync(file, Buffer.alloc(64));
    next = HandleJournal.recover(file, EXPORT)!;
    expect(next.pathOf(a)).toBe('/a');
  });

  it("refuses another export's journal, another boot's, and one whose base is not whole", () => {
    const t = new HandleTable(undefined, EXPORT);
    start(t).flush();
    expect(HandleJournal.recover(file, Buffer.from('76543210'))).toBeUndefined();
    const bytes = readFileSync(file);
    const bootLen = bytes.readUInt32BE(4);
    expect(bootLen).toBeGreaterThan(0);
    const otherBoot = Buffer.from(bytes);
    otherBoot[8] = otherBoot[8] === 0x30 ? 0x31 : 0x30;
    writeFileSync(file, otherBoot);
    expect(HandleJournal.recover(file, EXPORT)).toBeUndefined();
    writeFileSync(file, bytes.subarray(0, 8 + bootLen + 4 + 10));
    expect(HandleJournal.recover(file, EXPORT)).toBeUndefined();
    expect(HandleJournal.recover(join(dir, 'none'), EXPORT)).toBeUndefined();
  });

  it('compacts itself once its records outgrow the base, losing nothing', () => {
    const t = new HandleTable(undefined, EXPORT);
    const j = start(t, 1024);
    const handles: [Buffer, string][] = [];
    for (let i = 0; i < 300; i++) {
      handles.push([t.handleFor(`/f${i}`), `/f${i}`]);
      if (i % 3 === 0) {
        t.rename(`/f${i}`, `/g${i}`);
        handles[i]![1] = `/g${i}`;
      }
      j.flush();
    }
    // Compacted: the file's base is no longer the empty table it began with (28 bytes).
    const bytes = readFileSync(file);
    expect(bytes.readUInt32BE(8 + bytes.readUInt32BE(4))).toBeGreaterThan(1024);
    const next = HandleJournal.recover(file, EXPORT)!;
    for (const [fh, path] of handles) expect(next.pathOf(fh)).toBe(path);
  });

  it('makes the folder it is kept in (the first run of the first export)', () => {
    const t = new HandleTable(undefined, EXPORT);
    file = join(dir, 'state', 'nfs-handles', 'x.handles.journal');
    const a = t.handleFor('/a');
    start(t).flush();
    expect(HandleJournal.recover(file, EXPORT)!.pathOf(a)).toBe('/a');
  });

  it('removes its file when closed after a clean stop, and keeps it when asked (the snapshot failed)', () => {
    const t = new HandleTable(undefined, EXPORT);
    const j = start(t);
    const a = t.handleFor('/a');
    j.close();
    expect(existsSync(file)).toBe(false);
    t.handleFor('/b'); // no longer journaled, and nothing fails
    const again = start(t);
    const c = t.handleFor('/c');
    again.close({ keepFile: true });
    const next = HandleJournal.recover(file, EXPORT)!;
    expect(next.pathOf(a)).toBe('/a');
    expect(next.pathOf(c)).toBe('/c');
  });

  it('keeps its file recent while the export runs, changed or not (30-day pruning spares it)', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    try {
      const j = start(new HandleTable(undefined, EXPORT));
      const day = 24 * 3600_000;
      vi.setSystemTime(Date.now() + 40 * day);
      vi.advanceTimersByTime(day);
      expect(Math.abs(statSync(file).mtimeMs - Date.now())).toBeLessThan(5_000);
      j.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps paths whose names are not UTF-8 as exactly their bytes, in its base and in its records', () => {
    const t = new HandleTable(undefined, EXPORT);
    const base = t.handleFor('/caf\udce9'); // in the base snapshot
    const j = start(t);
    const other = t.handleFor('/caf\udce8');
    const dir = t.handleFor('/d\udcff');
    const inDir = t.handleFor('/d\udcff/x\udc80');
    const gone = t.handleFor('/gone\udcfe');
    const plain = t.handleFor('/caf\ufffd');
    t.rename('/d\udcff', '/e\udcfe');
    t.forget('/gone\udcfe');
    j.flush();
    expect(readFileSync(file).includes(Buffer.from('/e\xfe', 'latin1'))).toBe(true);
    const next = HandleJournal.recover(file, EXPORT)!;
    expect([base, other, dir, inDir, plain].map((fh) => next.pathOf(fh))).toEqual(['/caf\udce9', '/caf\udce8', '/e\udcfe', '/e\udcfe/x\udc80', '/caf\ufffd']);
    expect(() => next.pathOf(gone)).toThrow(STALE);
    expect(errors).toEqual([]);
  });

  it('ends itself (says why, leaves no file) at a path no bytes spell, which it could not record exactly', () => {
    const t = new HandleTable(undefined, EXPORT);
    start(t);
    t.handleFor('/odd\ud800');
    expect(errors[0]).toBeInstanceOf(RangeError);
    expect(t.journal).toBeUndefined();
    expect(existsSync(file)).toBe(false);
    expect(t.pathOf(t.handleFor('/a'))).toBe('/a');
  });

  it('says why and leaves no file when it cannot write, and the table goes on without it', () => {
    const t = new HandleTable(undefined, EXPORT);
    writeFileSync(join(dir, 'file'), '');
    expect(HandleJournal.start(join(dir, 'file', 'x.journal'), t, (e) => errors.push(e))).toBeUndefined();
    expect(errors[0]?.message).toMatch(/EEXIST|ENOTDIR/);
    expect(t.journal).toBeUndefined();
    expect(t.pathOf(t.handleFor('/a'))).toBe('/a');
  });
});
