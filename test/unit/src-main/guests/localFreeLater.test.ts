import { closeSync, constants as C, mkdirSync, mkdtempSync, openSync, renameSync, rmdirSync, rmSync, unlinkSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FreeLater, type HeldFolder } from '../../../../src-main/guests/localFreeLater.ts';
import { libc, type Ops } from '../../../../src-main/guests/localLibc.ts';
import { heldUnder } from '../../../helpers/heldFds.ts';

// Removals whose inode is freed later: the name is gone when the call returns, the removed
// node is held by a descriptor until its close runs off this thread (localCloseLater.ts), and where
// the file system is short of space nothing is held (the space is back before the reply).
// Both ways of reaching the name run: libc's openat on the folder's descriptor, and the
// folder's path alone (where koffi or libc does not load).

async function settled(f: FreeLater): Promise<void> {
  for (let i = 0; i < 200 && f.waiting > 0; i++) await new Promise((r) => setTimeout(r, 5));
}

const WAYS: Array<[string, Ops | null]> = [
  ['by openat', libc()],
  ['by path', null],
];

describe.skipIf(process.platform !== 'linux').each(WAYS)('local guest: removals freed later (%s)', (_way, at) => {
  let dir: string;
  let folder: HeldFolder;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-freelater-'));
    folder = { lexical: dir, ref: dir, fd: openSync(dir, C.O_RDONLY | C.O_DIRECTORY) };
  });
  afterEach(() => {
    closeSync(folder.fd);
    rmSync(dir, { recursive: true, force: true });
  });
  const inDir =
    (remove: (path: string) => void, name: string): (() => void) =>
    () =>
      remove(join(dir, name));

  it('removes files, folders and renamed-over files at once and frees their inodes after the call', async () => {
    const f = new FreeLater(0, at);
    writeFileSync(join(dir, 'a.bin'), Buffer.alloc(64 * 1024, 1));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'old'), 'replaced');
    writeFileSync(join(dir, 'new'), 'kept');

    f.remove(folder, 'a.bin', inDir(unlinkSync, 'a.bin'));
    f.remove(folder, 'sub', inDir(rmdirSync, 'sub'));
    f.remove(folder, 'old', () => renameSync(join(dir, 'new'), join(dir, 'old')), true);
    // A rename to a new name replaces nothing: nothing is held for it.
    f.remove(folder, 'fresh', () => renameSync(join(dir, 'old'), join(dir, 'fresh')), true);
    renameSync(join(dir, 'fresh'), join(dir, 'old'));

    expect(existsSync(join(dir, 'a.bin'))).toBe(false);
    expect(existsSync(join(dir, 'sub'))).toBe(false);
    expect(readFileSync(join(dir, 'old'), 'utf8')).toBe('kept');
    expect(f.waiting).toBe(3);
    // Their inodes are still held here: the closes that free them come a moment later, off this thread.
    expect(heldUnder(dir).sort()).toEqual([`${dir}/a.bin (deleted)`, `${dir}/old (deleted)`, `${dir}/sub (deleted)`]);
    await settled(f);
    expect(f.waiting).toBe(0);
    expect(heldUnder(dir)).toEqual([]);
  });

  it('frees in place on a file system short of space, and holds nothing when the removal fails', () => {
    const short = new FreeLater(Number.MAX_SAFE_INTEGER, at);
    writeFileSync(join(dir, 'a.bin'), 'x');
    short.remove(folder, 'a.bin', inDir(unlinkSync, 'a.bin'));
    expect(existsSync(join(dir, 'a.bin'))).toBe(false);
    expect(short.waiting).toBe(0);
    expect(heldUnder(dir)).toEqual([]);

    const roomy = new FreeLater(0, at);
    mkdirSync(join(dir, 'full'));
    writeFileSync(join(dir, 'full', 'x'), 'x');
    expect(() => roomy.remove(folder, 'full', inDir(rmdirSync, 'full'))).toThrow(/ENOTEMPTY/);
    expect(() => roomy.remove(folder, 'missing', inDir(unlinkSync, 'missing'))).toThrow(/ENOENT/);
    expect(existsSync(join(dir, 'full', 'x'))).toBe(true);
  });
});
