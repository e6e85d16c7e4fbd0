import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { firstEntryInChild, statInChild } from '../../../../src-main/hosts/probeInChild.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-probe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('probes from a child process', () => {
  it('stats a folder and a file, and names a missing path ENOENT', async () => {
    writeFileSync(join(dir, 'f'), 'x');
    const d = await statInChild(dir, 10_000);
    expect(d).toMatchObject({ ok: true, isDir: true });
    expect(d.ok && Number.isInteger(d.dev)).toBe(true);
    expect(await statInChild(join(dir, 'f'), 10_000)).toMatchObject({ ok: true, isDir: false });
    expect(await statInChild(join(dir, 'missing'), 10_000)).toMatchObject({ ok: false, code: 'ENOENT' });
    expect(await statInChild(join(dir, 'f', 'below'), 10_000)).toMatchObject({ ok: false, code: 'ENOTDIR' });
  });

  it('tells an empty folder from a non-empty one', async () => {
    const empty = mkdtempSync(join(dir, 'e-'));
    expect(await firstEntryInChild(empty, 10_000)).toEqual({ ok: true, empty: true });
    expect(await firstEntryInChild(dir, 10_000)).toEqual({ ok: true, empty: false });
    expect(await firstEntryInChild(join(dir, 'missing'), 10_000)).toMatchObject({ ok: false, code: 'ENOENT' });
  });
});
