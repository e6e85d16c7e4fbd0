import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attrOfRow } from '../../../../src-main/guests/localAttrs.ts';
import { F, lstatBatch, STAT_FIELDS } from '../../../../src-main/guests/localStatBatch.ts';

describe('lstatBatch: one worker batch of lstat calls', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-statbatch-'));
    writeFileSync(join(dir, 'a'), 'hello');
    symlinkSync('a', join(dir, 'l'));
    // A time a double in ms cannot hold: the row must still give it to the nanosecond.
    execFileSync('touch', ['-h', '-m', '-d', '2024-01-01 00:00:00.123456789', join(dir, 'a')]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers what lstat answers, and -1 for a name that is not there', async () => {
    const rows = await lstatBatch(dir, ['a', 'gone', 'l', ...Array.from({ length: 40 }, (_, i) => `none-${i}`)]);
    expect(rows).toBeDefined();
    expect(rows!.length).toBe(43 * STAT_FIELDS);
    for (const [i, name] of [[0, 'a'], [2, 'l']] as const) {
      const st = lstatSync(join(dir, name), { bigint: true });
      const o = i * STAT_FIELDS;
      expect(rows![o + F.mode]).toBe(Number(st.mode));
      expect(rows![o + F.size]).toBe(Number(st.size));
      expect(rows![o + F.ino]).toBe(Number(st.ino));
      expect(rows![o + F.nlink]).toBe(Number(st.nlink));
      expect(rows![o + F.uid]).toBe(Number(st.uid));
      const a = attrOfRow(rows!, o, { uid: undefined, gid: undefined });
      expect(a.blocks, name).toBe(Number(st.blocks));
      expect({ a: a.atimeNs, m: a.mtimeNs, c: a.ctimeNs }, name).toEqual({ a: st.atimeNs, m: st.mtimeNs, c: st.ctimeNs });
      expect(a.mtime, name).toBe(Number(st.mtimeNs) / 1e6);
    }
    expect(lstatSync(join(dir, 'a'), { bigint: true }).mtimeNs % 1_000_000_000n).toBe(123_456_789n);
    expect(rows![STAT_FIELDS + F.mode]).toBe(-1);
  });

  it('reads fresh each time and takes concurrent batches; small ones are left to the threadpool', async () => {
    const pad = Array.from({ length: 40 }, (_, i) => `none-${i}`);
    const [x, y] = await Promise.all([lstatBatch(dir, ['a', ...pad]), lstatBatch(dir, ['l', 'a', ...pad])]);
    expect(x![F.size]).toBe(5);
    expect(y![STAT_FIELDS + F.size]).toBe(5);
    writeFileSync(join(dir, 'a'), 'hello, again');
    expect((await lstatBatch(dir, ['a', ...pad]))![F.size]).toBe(12);
    expect((await lstatBatch(dir, []))!.length).toBe(0);
    expect(await lstatBatch(dir, ['a'])).toBeUndefined();
  });
});
